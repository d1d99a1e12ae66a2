/** Validates module options and fills in defaults. Pure. */
import { TaskerConfigError } from './errors/boot.errors';
import type { RetentionOptions, TaskerConfig, TaskerModuleOptions } from './interfaces/tasker-options.interface';
import {
  DEFAULT_BACKOFF,
  DEFAULT_RETENTION_BATCH,
  DEFAULT_RETENTION_INTERVAL_MS,
  DEFAULT_RETRY_LIMIT,
  DEFAULT_SCHEMA,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  DEFAULT_WORKER,
  MAX_RETENTION_BATCH,
} from './tasker.constants';
import {
  OPTION_DATA_SOURCE_NAME_INVALID,
  OPTION_DATABASE_MISSING,
  OPTION_DATABASE_TWICE,
  OPTION_DATABASE_URL_EMPTY,
  OPTION_LEASE_TOO_SHORT,
  OPTION_NOT_BOOLEAN,
  OPTION_NOT_POSITIVE_INTEGER,
  OPTION_PREFETCH_INVALID,
  OPTION_POOL_SIZE_INVALID,
  OPTION_RETENTION_AGE_MISSING,
  OPTION_RETENTION_BATCH_INVALID,
  OPTION_RETENTION_NOT_OBJECT,
  OPTION_RETRY_LIMIT_INVALID,
  OPTION_SCHEMA_INVALID,
  OPTION_SHUTDOWN_TIMEOUT_INVALID,
  OPTION_STATEMENT_TIMEOUT_INVALID,
  OPTION_UNKNOWN,
  OPTIONS_INVALID,
  OPTIONS_NOT_AN_OBJECT,
} from './tasker.messages';
import { backoffProblems } from './validation/backoff.validation';

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

function positiveInt(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) > 0 && (v as number) <= 2_147_483_647;
}

export function normalizeOptions(options: TaskerModuleOptions | undefined): TaskerConfig {
  const o = options ?? {};
  const problems: string[] = [];
  if (typeof o !== 'object') throw new TaskerConfigError(OPTIONS_NOT_AN_OBJECT());
  if (o.databaseUrl !== undefined && (typeof o.databaseUrl !== 'string' || o.databaseUrl.trim() === '')) {
    problems.push(OPTION_DATABASE_URL_EMPTY());
  }
  if (o.dataSourceName !== undefined && (typeof o.dataSourceName !== 'string' || o.dataSourceName === '')) {
    problems.push(OPTION_DATA_SOURCE_NAME_INVALID());
  }
  if (o.databaseUrl && o.dataSourceName) problems.push(OPTION_DATABASE_TWICE());
  if (!o.databaseUrl && !o.dataSourceName) {
    problems.push(OPTION_DATABASE_MISSING());
  }
  const schema = o.schema ?? DEFAULT_SCHEMA;
  if (typeof schema !== 'string' || !SCHEMA.test(schema)) {
    problems.push(OPTION_SCHEMA_INVALID(schema));
  }
  if (o.migrationsRun !== undefined && typeof o.migrationsRun !== 'boolean') problems.push(OPTION_NOT_BOOLEAN('migrationsRun'));
  if (o.logging !== undefined && typeof o.logging !== 'boolean') problems.push(OPTION_NOT_BOOLEAN('logging'));
  if (o.poolSize !== undefined && !(positiveInt(o.poolSize) && o.poolSize <= 1000)) problems.push(OPTION_POOL_SIZE_INVALID());
  if (o.statementTimeoutMs !== undefined && !(positiveInt(o.statementTimeoutMs) && o.statementTimeoutMs >= 100)) {
    problems.push(OPTION_STATEMENT_TIMEOUT_INVALID());
  }

  unknownKeys(o, TOP_LEVEL_KEYS, '', problems);
  const w = o.worker ?? {};
  unknownKeys(w, WORKER_KEYS, 'worker.', problems);
  if (w.enabled !== undefined && typeof w.enabled !== 'boolean') problems.push(OPTION_NOT_BOOLEAN('worker.enabled'));
  for (const key of ['concurrency', 'pollIntervalMs', 'leaseMs', 'sweepIntervalMs', 'priorityAgingMs'] as const) {
    if (w[key] !== undefined && !positiveInt(w[key])) problems.push(OPTION_NOT_POSITIVE_INTEGER(`worker.${key}`));
  }
  if (w.prefetch !== undefined && !(Number.isInteger(w.prefetch) && w.prefetch >= 0 && w.prefetch <= 10_000)) problems.push(OPTION_PREFETCH_INVALID());
  if (w.shutdownTimeoutMs !== undefined && !(Number.isInteger(w.shutdownTimeoutMs) && w.shutdownTimeoutMs >= 0)) {
    problems.push(OPTION_SHUTDOWN_TIMEOUT_INVALID());
  }
  if (w.leaseMs !== undefined && positiveInt(w.leaseMs) && w.leaseMs < 100) problems.push(OPTION_LEASE_TOO_SHORT());

  const d = o.defaults ?? {};
  unknownKeys(d, ['retryLimit', 'backoff'], 'defaults.', problems);
  unknownKeys(d.backoff ?? {}, ['baseMs', 'maxMs', 'jitter'], 'defaults.backoff.', problems);
  if (d.retryLimit !== undefined && !(Number.isInteger(d.retryLimit) && d.retryLimit >= 1 && d.retryLimit <= 1000)) {
    problems.push(OPTION_RETRY_LIMIT_INVALID());
  }
  problems.push(...backoffProblems(d.backoff ?? {}, 'defaults.backoff'));

  const retention = retentionConfig(o.retention, problems);

  if (problems.length > 0) {
    throw new TaskerConfigError(OPTIONS_INVALID(problems));
  }
  return {
    databaseUrl: o.databaseUrl,
    dataSourceName: o.dataSourceName,
    schema,
    migrationsRun: o.migrationsRun ?? true,
    poolSize: o.poolSize ?? 10,
    statementTimeoutMs: o.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    worker: { ...DEFAULT_WORKER, ...stripUndefined(w) },
    defaults: {
      retryLimit: d.retryLimit ?? DEFAULT_RETRY_LIMIT,
      backoff: { ...DEFAULT_BACKOFF, ...stripUndefined(d.backoff ?? {}) },
    },
    logging: o.logging ?? true,
    retention,
  };
}

const RETENTION_KEYS = ['finishedAfterMs', 'intervalMs', 'batchSize'];

function retentionConfig(r: RetentionOptions | undefined, problems: string[]): TaskerConfig['retention'] {
  if (r === undefined) return null;
  if (r === null || typeof r !== 'object' || Array.isArray(r)) {
    problems.push(OPTION_RETENTION_NOT_OBJECT());
    return null;
  }
  unknownKeys(r, RETENTION_KEYS, 'retention.', problems);
  if (r.finishedAfterMs === undefined) problems.push(OPTION_RETENTION_AGE_MISSING());
  // Not positiveInt: 30 days is more milliseconds than an int holds.
  else if (!(Number.isSafeInteger(r.finishedAfterMs) && r.finishedAfterMs > 0)) problems.push(OPTION_NOT_POSITIVE_INTEGER('retention.finishedAfterMs'));
  if (r.intervalMs !== undefined && !positiveInt(r.intervalMs)) problems.push(OPTION_NOT_POSITIVE_INTEGER('retention.intervalMs'));
  if (r.batchSize !== undefined && !(positiveInt(r.batchSize) && r.batchSize <= MAX_RETENTION_BATCH)) {
    problems.push(OPTION_RETENTION_BATCH_INVALID(MAX_RETENTION_BATCH));
  }
  return { finishedAfterMs: r.finishedAfterMs, intervalMs: r.intervalMs ?? DEFAULT_RETENTION_INTERVAL_MS, batchSize: r.batchSize ?? DEFAULT_RETENTION_BATCH };
}

const TOP_LEVEL_KEYS = ['databaseUrl', 'dataSourceName', 'schema', 'migrationsRun', 'poolSize', 'statementTimeoutMs', 'worker', 'defaults', 'logging', 'retention'];
const WORKER_KEYS = ['enabled', 'concurrency', 'prefetch', 'pollIntervalMs', 'leaseMs', 'sweepIntervalMs', 'priorityAgingMs', 'shutdownTimeoutMs'];

/** A misspelt option (`concurency`) must not be silently ignored. */
function unknownKeys(o: object, known: readonly string[], prefix: string, problems: string[]): void {
  if (typeof o !== 'object' || o === null) return;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) problems.push(OPTION_UNKNOWN(`${prefix}${key}`, known));
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
