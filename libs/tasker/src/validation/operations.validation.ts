/** Checks the inputs of the failures inbox, the bulk actions and purgeTasks. Pure. */
import type { FieldError } from '../errors/service.errors';
import type { BulkTaskFilter, FailureQuery, PurgeOptions, TaskState } from '../interfaces/views.interface';
import { isState, STATES, TERMINAL_TASK_STATES } from '../state/states';
import { MAX_BULK_IDS } from '../tasker.constants';
import {
  FIELD_BULK_FILTER_EMPTY,
  FIELD_BULK_FILTER_NOT_OBJECT,
  FIELD_DATE_INVALID,
  FIELD_FILTER_NOT_OBJECT,
  FIELD_NAMESPACE_FILTER,
  FIELD_PURGE_NOT_OBJECT,
  FIELD_PURGE_STATES,
  FIELD_STATE_INVALID,
  FIELD_STEP_NAME,
  FIELD_TASK_IDS,
  FIELD_TASK_NAME_FILTER,
  FIELD_UNKNOWN_FILTER,
  FIELD_VERSION,
  FIELD_NOT_STRING,
} from '../tasker.messages';
import { isValidName } from './names.validation';
import { hasLoneSurrogate, isTaskId } from './request.validation';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownFields(o: Record<string, unknown>, known: readonly string[], errors: FieldError[]): void {
  for (const key of Object.keys(o)) if (!known.includes(key)) errors.push({ field: key, messages: [FIELD_UNKNOWN_FILTER()] });
}

/** A step name or an error code: what a step's row can hold (no NUL, valid Unicode, up to 200 characters). */
function isText(v: unknown, max = 200): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max && !v.includes('\u0000') && !hasLoneSurrogate(v);
}

export function failureQueryProblems(q: FailureQuery | undefined): FieldError[] {
  if (q === undefined) return [];
  if (!isObject(q)) return [{ field: 'query', messages: [FIELD_FILTER_NOT_OBJECT()] }];
  const errors: FieldError[] = [];
  unknownFields(q, ['namespace', 'name'], errors);
  if (q.namespace !== undefined && !isValidName(q.namespace)) errors.push({ field: 'namespace', messages: [FIELD_NAMESPACE_FILTER()] });
  if (q.name !== undefined && !isValidName(q.name)) errors.push({ field: 'name', messages: [FIELD_TASK_NAME_FILTER()] });
  return errors;
}

const FILTER_FIELDS = ['ids', 'state', 'namespace', 'name', 'version', 'stepName', 'code'] as const;

/** A bulk action's filter: at least one field, each well-formed (fields set to undefined count as absent). */
export function bulkFilterProblems(f: BulkTaskFilter | undefined): FieldError[] {
  if (!isObject(f)) return [{ field: 'filter', messages: [FIELD_BULK_FILTER_NOT_OBJECT()] }];
  const errors: FieldError[] = [];
  unknownFields(f, FILTER_FIELDS, errors);
  const field = (name: string) => `filter.${name}`;
  if (FILTER_FIELDS.every((k) => f[k] === undefined)) errors.push({ field: 'filter', messages: [FIELD_BULK_FILTER_EMPTY()] });
  const ids = f.ids as unknown;
  if (ids !== undefined && !(Array.isArray(ids) && ids.length > 0 && ids.length <= MAX_BULK_IDS && ids.every(isTaskId))) {
    errors.push({ field: field('ids'), messages: [FIELD_TASK_IDS(MAX_BULK_IDS)] });
  }
  if (f.state !== undefined && !isState(f.state)) errors.push({ field: field('state'), messages: [FIELD_STATE_INVALID(STATES)] });
  if (f.namespace !== undefined && !isValidName(f.namespace)) errors.push({ field: field('namespace'), messages: [FIELD_NAMESPACE_FILTER()] });
  if (f.name !== undefined && !isValidName(f.name)) errors.push({ field: field('name'), messages: [FIELD_TASK_NAME_FILTER()] });
  if (f.version !== undefined && !isValidName(f.version)) errors.push({ field: field('version'), messages: [FIELD_VERSION()] });
  if (f.stepName !== undefined && !isText(f.stepName, 128)) errors.push({ field: field('stepName'), messages: [FIELD_STEP_NAME()] });
  if (f.code !== undefined && !isText(f.code)) errors.push({ field: field('code'), messages: [FIELD_NOT_STRING()] });
  return errors;
}

/** The filter as the SQL reads it: only the fields given. */
export function bulkFilterJson(f: BulkTaskFilter): string {
  return JSON.stringify(Object.fromEntries(FILTER_FIELDS.filter((k) => f[k] !== undefined).map((k) => [k, f[k]])));
}

/** purgeTasks' options: a valid date, and finished states only (a task in error waits for an operator). */
export function purgeProblems(o: PurgeOptions | undefined): FieldError[] {
  if (!isObject(o)) return [{ field: 'options', messages: [FIELD_PURGE_NOT_OBJECT()] }];
  const errors: FieldError[] = [];
  unknownFields(o, ['finishedBefore', 'states'], errors);
  const d = o.finishedBefore as unknown;
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) errors.push({ field: 'finishedBefore', messages: [FIELD_DATE_INVALID()] });
  const states = o.states as unknown;
  if (states !== undefined && !(Array.isArray(states) && states.length > 0 && states.every((s) => TERMINAL_TASK_STATES.includes(s as TaskState)))) {
    errors.push({ field: 'states', messages: [FIELD_PURGE_STATES()] });
  }
  return errors;
}
