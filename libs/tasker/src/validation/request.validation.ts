/** Checks of what callers pass to TaskerService. Pure; every problem is listed, none thrown one by one. */
import { FieldError, TaskValidationError } from '../errors/service.errors';
import type { ActorInput, TaskQuery, TaskRequest } from '../interfaces/views.interface';
import { isState, STATES } from '../state/states';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from '../tasker.constants';
import {
  FIELD_ACTOR_NOT_OBJECT,
  FIELD_CURSOR_INVALID,
  FIELD_EMPTY,
  FIELD_HAS_NUL,
  FIELD_LIMIT_INVALID,
  FIELD_MAX_CONTEXT_BYTES_INVALID,
  FIELD_LONE_SURROGATE,
  FIELD_NAMESPACE,
  FIELD_NAMESPACE_FILTER,
  FIELD_NOT_JSON_OBJECT,
  FIELD_NOT_OBJECT,
  FIELD_NOT_STRING,
  FIELD_RUN_AT_INVALID,
  FIELD_RUN_AT_OUT_OF_RANGE,
  FIELD_STATE_INVALID,
  FIELD_TAG_INVALID,
  FIELD_TAGS_NOT_ARRAY,
  FIELD_TASK_NAME,
  FIELD_TASK_NAME_FILTER,
  FIELD_TOO_LONG,
  FIELD_TOO_MANY_TAGS,
  FIELD_PRIORITY_INVALID,
  FIELD_UNKNOWN,
  FIELD_UNKNOWN_FILTER,
  FIELD_VERSION,
  INVALID_TASK_QUERY,
  INVALID_TASK_REQUEST,
  JSON_HAS_NUL,
  JSON_NOT_SERIALIZABLE,
  JSON_TOO_DEEP,
  JSON_TOO_LARGE,
} from '../tasker.messages';
import { isValidName } from './names.validation';

export const LIMITS = {
  text: 1_000,
  idempotencyKey: 255,
  concurrencyKey: 255,
  tags: 50,
  tag: 100,
  contextBytes: 1024 * 1024,
  jsonDepth: 64,
} as const;

/**
 * The dates a task may be scheduled at: from the Unix epoch to the end of the last four-digit year
 * (UTC). Later, a date's ISO text has a six-digit signed year (+010000-...) that Postgres refuses
 * with a driver error; earlier dates have no use as a start time.
 */
export const RUN_AT_RANGE = { min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z') } as const;

const REQUEST_KEYS = new Set([
  'name',
  'namespace',
  'version',
  'context',
  'initiator',
  'sourceSystem',
  'reason',
  'tags',
  'idempotencyKey',
  'runAt',
  'priority',
  'concurrencyKey',
]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function depth(v: unknown, limit: number, d = 0): number {
  if (d > limit) return d;
  if (Array.isArray(v)) return v.reduce<number>((m, x) => Math.max(m, depth(x, limit, d + 1)), d + 1);
  if (isPlainObject(v)) return Object.values(v).reduce<number>((m, x) => Math.max(m, depth(x, limit, d + 1)), d + 1);
  return d;
}

/** Problems with a JSON value that must be stored (context, results). */
export function jsonProblems(v: unknown, maxBytes: number): string[] {
  if (depth(v, LIMITS.jsonDepth) > LIMITS.jsonDepth) return [JSON_TOO_DEEP(LIMITS.jsonDepth)];
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (e) {
    return [JSON_NOT_SERIALIZABLE((e as Error).message)];
  }
  if (text !== undefined && Buffer.byteLength(text) > maxBytes) return [JSON_TOO_LARGE(maxBytes)];
  // A NUL is the escape \u0000 after an even number of backslashes (an odd number means the text spells "\u0000").
  if (text !== undefined && /(?:^|[^\\])(?:\\\\)*\\u0000/.test(text)) return [JSON_HAS_NUL()];
  // JSON.stringify writes a lone surrogate (half of a UTF-16 pair, in a string or a key) as an escape
  // \udXXX, which Postgres's jsonb refuses with a raw driver error (a 500 over HTTP): refused here instead.
  if (text !== undefined && /(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/i.test(text)) return [FIELD_LONE_SURROGATE()];
  return [];
}

/**
 * Whether a string holds a lone surrogate. The database driver would silently store it as U+FFFD,
 * so two different idempotency keys (or names) could become the same one: refused instead.
 */
export function hasLoneSurrogate(v: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/.test(v);
}

function optionalText(errors: FieldError[], field: string, v: unknown, max: number = LIMITS.text): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string') errors.push({ field, messages: [FIELD_NOT_STRING()] });
  else if (v.length > max) errors.push({ field, messages: [FIELD_TOO_LONG(max)] });
  else if (v.includes('\u0000')) errors.push({ field, messages: [FIELD_HAS_NUL()] });
  else if (hasLoneSurrogate(v)) errors.push({ field, messages: [FIELD_LONE_SURROGATE()] });
}

export function requestProblems(req: unknown, prefix = ''): FieldError[] {
  const errors: FieldError[] = [];
  const f = (name: string) => `${prefix}${name}`;
  if (!isPlainObject(req)) return [{ field: prefix ? prefix.replace(/\.$/, '') : 'request', messages: [FIELD_NOT_OBJECT()] }];
  const r = req as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!REQUEST_KEYS.has(key)) errors.push({ field: f(key), messages: [FIELD_UNKNOWN()] });
  if (!isValidName(r.name)) errors.push({ field: f('name'), messages: [FIELD_TASK_NAME()] });
  if (r.namespace !== undefined && !isValidName(r.namespace)) {
    errors.push({ field: f('namespace'), messages: [FIELD_NAMESPACE()] });
  }
  if (r.version !== undefined && !isValidName(r.version)) errors.push({ field: f('version'), messages: [FIELD_VERSION()] });
  if (r.context !== undefined) {
    if (!isPlainObject(r.context)) errors.push({ field: f('context'), messages: [FIELD_NOT_JSON_OBJECT()] });
    else {
      const p = jsonProblems(r.context, LIMITS.contextBytes);
      if (p.length) errors.push({ field: f('context'), messages: p });
    }
  }
  optionalText(errors, f('initiator'), r.initiator);
  optionalText(errors, f('sourceSystem'), r.sourceSystem);
  optionalText(errors, f('reason'), r.reason);
  optionalText(errors, f('idempotencyKey'), r.idempotencyKey, LIMITS.idempotencyKey);
  if (r.idempotencyKey === '') errors.push({ field: f('idempotencyKey'), messages: [FIELD_EMPTY()] });
  if (r.tags !== undefined) {
    if (!Array.isArray(r.tags)) errors.push({ field: f('tags'), messages: [FIELD_TAGS_NOT_ARRAY()] });
    else if (r.tags.length > LIMITS.tags) errors.push({ field: f('tags'), messages: [FIELD_TOO_MANY_TAGS(LIMITS.tags)] });
    else if (r.tags.some((t) => typeof t !== 'string' || t.length === 0 || t.length > LIMITS.tag || t.includes('\u0000') || hasLoneSurrogate(t))) {
      errors.push({ field: f('tags'), messages: [FIELD_TAG_INVALID(LIMITS.tag)] });
    }
  }
  if (r.runAt !== undefined && r.runAt !== null) {
    const d = r.runAt instanceof Date ? r.runAt : typeof r.runAt === 'string' ? new Date(r.runAt) : null;
    if (!d || Number.isNaN(d.getTime())) errors.push({ field: f('runAt'), messages: [FIELD_RUN_AT_INVALID()] });
    else if (d.getTime() < RUN_AT_RANGE.min.getTime() || d.getTime() > RUN_AT_RANGE.max.getTime()) {
      errors.push({ field: f('runAt'), messages: [FIELD_RUN_AT_OUT_OF_RANGE(RUN_AT_RANGE.min.toISOString(), RUN_AT_RANGE.max.toISOString())] });
    }
  }
  if (r.priority !== undefined && !(Number.isInteger(r.priority) && (r.priority as number) >= -100 && (r.priority as number) <= 100)) {
    errors.push({ field: f('priority'), messages: [FIELD_PRIORITY_INVALID()] });
  }
  optionalText(errors, f('concurrencyKey'), r.concurrencyKey, LIMITS.concurrencyKey);
  return errors;
}

export function assertValidRequest(req: unknown, prefix = ''): asserts req is TaskRequest {
  const errors = requestProblems(req, prefix);
  if (errors.length) throw new TaskValidationError(INVALID_TASK_REQUEST(summarize(errors)), errors);
}

export function summarize(errors: FieldError[]): string {
  return errors.map((e) => `${e.field} ${e.messages.join(', ')}`).join('; ');
}

/**
 * An id as it may appear in an error message: any value (also one without a string form, like an
 * object with a null prototype, whose String() throws), cut to a readable length. Never throws:
 * building the error that names the id must not fail itself.
 */
export function printableId(id: unknown): string {
  let text: string;
  try {
    text = typeof id === 'string' ? id : String(id);
  } catch {
    text = Object.prototype.toString.call(id);
  }
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/** Task ids are positive 64-bit integers written as strings. */
export function isTaskId(id: unknown): id is string {
  return typeof id === 'string' && /^[1-9]\d{0,18}$/.test(id) && BigInt(id) <= 9223372036854775807n;
}

export interface NormalizedQuery {
  state?: string;
  namespace?: string;
  name?: string;
  tag?: string;
  limit: number;
  beforeId?: string;
  maxContextBytes?: number;
}

const QUERY_KEYS = new Set(['state', 'namespace', 'name', 'tag', 'limit', 'cursor', 'maxContextBytes']);

export function normalizeQuery(q: TaskQuery | undefined): NormalizedQuery {
  const query = (q ?? {}) as Record<string, unknown>;
  const errors: FieldError[] = [];
  if (!isPlainObject(query)) throw new TaskValidationError(INVALID_TASK_QUERY(FIELD_NOT_OBJECT()), [{ field: 'query', messages: [FIELD_NOT_OBJECT()] }]);
  for (const key of Object.keys(query)) if (!QUERY_KEYS.has(key) && query[key] !== undefined) errors.push({ field: key, messages: [FIELD_UNKNOWN_FILTER()] });
  if (query.state !== undefined && !isState(query.state)) {
    errors.push({ field: 'state', messages: [FIELD_STATE_INVALID(STATES)] });
  }
  if (query.namespace !== undefined && !isValidName(query.namespace)) errors.push({ field: 'namespace', messages: [FIELD_NAMESPACE_FILTER()] });
  if (query.name !== undefined && !isValidName(query.name)) errors.push({ field: 'name', messages: [FIELD_TASK_NAME_FILTER()] });
  optionalText(errors, 'tag', query.tag, LIMITS.tag);
  const limit = query.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_LIST_LIMIT) {
    errors.push({ field: 'limit', messages: [FIELD_LIMIT_INVALID(MAX_LIST_LIMIT)] });
  }
  const maxContextBytes = query.maxContextBytes;
  if (maxContextBytes !== undefined && !(Number.isInteger(maxContextBytes) && (maxContextBytes as number) >= 2 && (maxContextBytes as number) <= 2 ** 31 - 1)) {
    errors.push({ field: 'maxContextBytes', messages: [FIELD_MAX_CONTEXT_BYTES_INVALID()] });
  }
  let beforeId: string | undefined;
  if (query.cursor !== undefined && query.cursor !== null) {
    beforeId = decodeCursor(query.cursor);
    if (!beforeId) errors.push({ field: 'cursor', messages: [FIELD_CURSOR_INVALID()] });
  }
  if (errors.length) throw new TaskValidationError(INVALID_TASK_QUERY(summarize(errors)), errors);
  return {
    state: query.state as string | undefined,
    namespace: query.namespace as string | undefined,
    name: query.name as string | undefined,
    tag: query.tag as string | undefined,
    limit: limit as number,
    beforeId,
    ...(maxContextBytes !== undefined ? { maxContextBytes: maxContextBytes as number } : {}),
  };
}

export function encodeCursor(lastId: string): string {
  return Buffer.from(`t:${lastId}`).toString('base64url');
}

function decodeCursor(c: unknown): string | undefined {
  if (typeof c !== 'string' || c.length > 64) return undefined;
  const text = Buffer.from(c, 'base64url').toString();
  const id = text.startsWith('t:') ? text.slice(2) : '';
  return isTaskId(id) ? id : undefined;
}

export function actorProblems(by: ActorInput | undefined): FieldError[] {
  if (by === undefined || by === null) return [];
  if (!isPlainObject(by)) return [{ field: 'by', messages: [FIELD_ACTOR_NOT_OBJECT()] }];
  const errors: FieldError[] = [];
  optionalText(errors, 'actor', by.actor, 200);
  optionalText(errors, 'reason', by.reason);
  return errors;
}
