/** Turns decorator metadata into a validated HandlerDefinition. Pure: no Nest, no database. */
import { HandlerDefinitionError } from '../errors/boot.errors';
import type { BackoffOptions } from '../interfaces/backoff-options.interface';
import type { StepOptions, TaskHandlerOptions } from '../interfaces/handler-options.interface';
import { DEFAULT_NAMESPACE, DEFAULT_VERSION } from '../tasker.constants';
import {
  HANDLER_CONTEXT_NOT_CLASS,
  HANDLER_INVALID,
  HANDLER_NAME_INVALID,
  HANDLER_NAMESPACE_INVALID,
  HANDLER_VERSION_INVALID,
  STEP_AT,
  STEP_BACKOFF_AT,
  STEP_DEPENDS_ON_INVALID,
  STEP_MAP_INVALID,
  STEP_MAX_PARALLEL_INVALID,
  STEP_MAX_PARALLEL_WITHOUT_MAP,
  STEP_NAME_INVALID,
  STEP_RETRY_LIMIT_INVALID,
  STEP_RETRYABLE_INVALID,
  STEP_RUN_IF_INVALID,
  STEP_TIMEOUT_INVALID,
  BUCKET_INVALID,
  LIMIT_INVALID,
  LIMIT_KEY_INVALID,
  PERIOD_INVALID,
} from '../tasker.messages';
import { scheduleDefinitions } from './schedule-definitions';
import { backoffProblems } from '../validation/backoff.validation';
import { isValidName } from '../validation/names.validation';
import { describeDagProblem, findDagProblems, topologicalOrder } from './dag';
import { HandlerDefinition, StepDefinition } from './handler-definition';

export interface RawStep {
  methodName: string;
  options: StepOptions;
  dependsOn: string[];
}

export interface StepDefaults {
  retryLimit: number;
  backoff: BackoffOptions;
}

export function buildHandlerDefinition(
  className: string,
  opts: TaskHandlerOptions,
  rawSteps: RawStep[],
  defaults: StepDefaults,
): HandlerDefinition {
  const problems: string[] = [];
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  const version = opts.version ?? DEFAULT_VERSION;
  if (!isValidName(opts.name)) problems.push(HANDLER_NAME_INVALID(opts.name));
  if (!isValidName(namespace)) problems.push(HANDLER_NAMESPACE_INVALID(namespace));
  if (!isValidName(version)) problems.push(HANDLER_VERSION_INVALID(version));
  if (opts.context !== undefined && typeof opts.context !== 'function') problems.push(HANDLER_CONTEXT_NOT_CLASS());
  const schedules = scheduleDefinitions(opts.schedules, problems);
  if (opts.concurrency !== undefined) problems.push(...concurrencyProblems(opts.concurrency, 'concurrency'));

  const steps: StepDefinition[] = rawSteps.map((raw) => {
    const o = raw.options;
    const name = o.name ?? raw.methodName;
    const at = STEP_AT(name);
    if (!isValidName(name)) problems.push(STEP_NAME_INVALID(at));
    if (o.retryLimit !== undefined && !(Number.isInteger(o.retryLimit) && o.retryLimit >= 1 && o.retryLimit <= 1000)) {
      problems.push(STEP_RETRY_LIMIT_INVALID(at, o.retryLimit));
    }
    if (o.timeoutMs !== undefined && !(Number.isInteger(o.timeoutMs) && o.timeoutMs > 0 && o.timeoutMs <= 2_147_483_647)) {
      problems.push(STEP_TIMEOUT_INVALID(at, o.timeoutMs));
    }
    if (o.retryable !== undefined && typeof o.retryable !== 'boolean') problems.push(STEP_RETRYABLE_INVALID(at));
    problems.push(...backoffProblems(o.backoff ?? {}, STEP_BACKOFF_AT(at)));
    for (const d of raw.dependsOn) if (typeof d !== 'string') problems.push(STEP_DEPENDS_ON_INVALID(at));
    if (o.runIf !== undefined && typeof o.runIf !== 'function') problems.push(STEP_RUN_IF_INVALID(at, o.runIf));
    if (o.map !== undefined && typeof o.map !== 'function') problems.push(STEP_MAP_INVALID(at, o.map));
    if (o.concurrency !== undefined) problems.push(...concurrencyProblems(o.concurrency, `${at}: concurrency`));
    if (o.rateLimit !== undefined) problems.push(...rateLimitProblems(o.rateLimit, `${at}: rateLimit`));
    if (o.maxParallel !== undefined) {
      if (!(Number.isInteger(o.maxParallel) && o.maxParallel >= 1 && o.maxParallel <= 2_147_483_647)) problems.push(STEP_MAX_PARALLEL_INVALID(at, o.maxParallel));
      else if (o.map === undefined) problems.push(STEP_MAX_PARALLEL_WITHOUT_MAP(at));
    }
    const retryable = o.retryable ?? true;
    return {
      name,
      methodName: raw.methodName,
      description: o.description,
      dependsOn: [...new Set(raw.dependsOn)],
      retryable,
      retryLimit: retryable ? (o.retryLimit ?? defaults.retryLimit) : 1,
      timeoutMs: o.timeoutMs,
      backoff: { ...defaults.backoff, ...(o.backoff ?? {}) },
      ...(o.runIf ? { runIf: o.runIf } : {}),
      ...(o.map ? { map: o.map, maxParallel: o.maxParallel } : {}),
      ...(o.concurrency ? { concurrency: { key: o.concurrency.key ?? null, limit: o.concurrency.limit } } : {}),
      ...(o.rateLimit ? { rateLimit: { ...o.rateLimit, key: o.rateLimit.key ?? null } } : {}),
    };
  });

  for (const p of findDagProblems(steps)) problems.push(describeDagProblem(p));
  if (problems.length > 0) {
    throw new HandlerDefinitionError(HANDLER_INVALID(className, `${namespace}/${String(opts.name)}@${version}`, problems));
  }
  const order = topologicalOrder(steps);
  const byName = new Map(steps.map((s) => [s.name, s]));
  return {
    namespace,
    name: opts.name,
    version,
    description: opts.description,
    contextDto: opts.context,
    ...(schedules.length > 0 ? { schedules } : {}),
    ...(opts.concurrency ? { concurrency: { key: opts.concurrency.key ?? null, limit: opts.concurrency.limit } } : {}),
    steps: order.map((n) => byName.get(n)!),
  };
}

const KEY_PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;

function limitProblems(limit: unknown, at: string): string[] {
  return Number.isInteger(limit) && (limit as number) >= 1 && (limit as number) <= 2_147_483_647 ? [] : [LIMIT_INVALID(at, limit)];
}

function keyProblems(key: unknown, at: string): string[] {
  return key === undefined || (typeof key === 'string' && KEY_PATH.test(key)) ? [] : [LIMIT_KEY_INVALID(at, key)];
}

function concurrencyProblems(c: unknown, at: string): string[] {
  const o = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
  return [...limitProblems(o.limit, at), ...keyProblems(o.key, at)];
}

function rateLimitProblems(r: unknown, at: string): string[] {
  const o = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
  const out = [...limitProblems(o.limit, at), ...keyProblems(o.key, at)];
  if (!(Number.isInteger(o.periodMs) && (o.periodMs as number) >= 1 && (o.periodMs as number) <= 2_147_483_647)) out.push(PERIOD_INVALID(at, o.periodMs));
  if (typeof o.bucket !== 'string' || !isValidName(o.bucket)) out.push(BUCKET_INVALID(at, o.bucket));
  return out;
}

/**
 * Orders versions like semver where they are numeric ("1.10.0" > "1.9.0", "1.0.1" > "1.0"), else as
 * text; a release ranks above its pre-releases ("1.0.0" > "1.0.0-beta").
 */
export function compareVersions(a: string, b: string): number {
  const [coreA, tailA] = splitVersion(a);
  const [coreB, tailB] = splitVersion(b);
  for (let i = 0; i < Math.max(coreA.length, coreB.length); i++) {
    const c = compareVersionParts(coreA[i] ?? '0', coreB[i] ?? '0'); // a missing core part counts as 0
    if (c !== 0) return c;
  }
  if (tailA.length === 0 || tailB.length === 0) return tailB.length - tailA.length;
  for (let i = 0; i < Math.max(tailA.length, tailB.length); i++) {
    if (tailA[i] === undefined) return -1; // "1.0.0-beta" < "1.0.0-beta.1"
    if (tailB[i] === undefined) return 1;
    const c = compareVersionParts(tailA[i], tailB[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function splitVersion(v: string): [string[], string[]] {
  const at = v.search(/[-+]/);
  return at < 0 ? [v.split('.'), []] : [v.slice(0, at).split('.'), v.slice(at + 1).split(/[.+-]/)];
}

function compareVersionParts(x: string, y: string): number {
  if (x === y) return 0;
  if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
  return x < y ? -1 : 1;
}
