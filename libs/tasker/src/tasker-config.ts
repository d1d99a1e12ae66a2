/** Validates module options and fills in defaults. Pure. */
import { TaskerConfigError } from './errors/boot.errors';
import type { TaskerConfig, TaskerModuleOptions } from './interfaces/tasker-options.interface';
import { backoffProblems } from './orchestration/backoff';
import { DEFAULT_BACKOFF, DEFAULT_RETRY_LIMIT, DEFAULT_SCHEMA, DEFAULT_STATEMENT_TIMEOUT_MS, DEFAULT_WORKER } from './tasker.constants';

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

function positiveInt(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) > 0 && (v as number) <= 2_147_483_647;
}

export function normalizeOptions(options: TaskerModuleOptions | undefined): TaskerConfig {
  const o = options ?? {};
  const problems: string[] = [];
  if (typeof o !== 'object') throw new TaskerConfigError('TaskerModule.forRoot expects an options object.');
  if (o.databaseUrl !== undefined && (typeof o.databaseUrl !== 'string' || o.databaseUrl.trim() === '')) {
    problems.push('databaseUrl must be a non-empty connection string (postgres://user:password@host:5432/db)');
  }
  if (o.dataSourceName !== undefined && (typeof o.dataSourceName !== 'string' || o.dataSourceName === '')) {
    problems.push('dataSourceName must be the name of a TypeORM DataSource registered with TypeOrmModule');
  }
  if (o.databaseUrl && o.dataSourceName) problems.push('give either databaseUrl or dataSourceName, not both');
  if (!o.databaseUrl && !o.dataSourceName) {
    problems.push('a database is required: set databaseUrl (e.g. process.env.DATABASE_URL) or dataSourceName');
  }
  const schema = o.schema ?? DEFAULT_SCHEMA;
  if (typeof schema !== 'string' || !SCHEMA.test(schema)) {
    problems.push(`schema must be a lower-case Postgres identifier (letters, digits, _), got ${JSON.stringify(schema)}`);
  }
  if (o.migrationsRun !== undefined && typeof o.migrationsRun !== 'boolean') problems.push('migrationsRun must be a boolean');
  if (o.logging !== undefined && typeof o.logging !== 'boolean') problems.push('logging must be a boolean');
  if (o.retryDelays !== undefined && o.retryDelays !== 'real' && o.retryDelays !== 'skip') problems.push("retryDelays must be 'real' or 'skip'");
  if (o.poolSize !== undefined && !(positiveInt(o.poolSize) && o.poolSize <= 1000)) problems.push('poolSize must be an integer from 1 to 1000');
  if (o.statementTimeoutMs !== undefined && !(positiveInt(o.statementTimeoutMs) && o.statementTimeoutMs >= 100)) {
    problems.push('statementTimeoutMs must be an integer of at least 100 (ms)');
  }

  unknownKeys(o, TOP_LEVEL_KEYS, '', problems);
  const w = o.worker ?? {};
  unknownKeys(w, WORKER_KEYS, 'worker.', problems);
  if (w.enabled !== undefined && typeof w.enabled !== 'boolean') problems.push('worker.enabled must be a boolean');
  for (const key of ['concurrency', 'pollIntervalMs', 'leaseMs', 'sweepIntervalMs'] as const) {
    if (w[key] !== undefined && !positiveInt(w[key])) problems.push(`worker.${key} must be a positive integer`);
  }
  if (w.shutdownTimeoutMs !== undefined && !(Number.isInteger(w.shutdownTimeoutMs) && w.shutdownTimeoutMs >= 0)) {
    problems.push('worker.shutdownTimeoutMs must be an integer >= 0');
  }
  if (w.leaseMs !== undefined && positiveInt(w.leaseMs) && w.leaseMs < 100) problems.push('worker.leaseMs must be at least 100');

  const d = o.defaults ?? {};
  unknownKeys(d, ['retryLimit', 'backoff'], 'defaults.', problems);
  unknownKeys(d.backoff ?? {}, ['baseMs', 'maxMs', 'jitter'], 'defaults.backoff.', problems);
  if (d.retryLimit !== undefined && !(Number.isInteger(d.retryLimit) && d.retryLimit >= 1 && d.retryLimit <= 1000)) {
    problems.push('defaults.retryLimit must be an integer from 1 to 1000 (total attempts)');
  }
  problems.push(...backoffProblems(d.backoff ?? {}, 'defaults.backoff'));

  if (problems.length > 0) {
    throw new TaskerConfigError(`TaskerModule options are invalid: ${problems.join('; ')}.`);
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
    retryDelays: o.retryDelays ?? 'real',
  };
}

const TOP_LEVEL_KEYS = ['databaseUrl', 'dataSourceName', 'schema', 'migrationsRun', 'poolSize', 'statementTimeoutMs', 'worker', 'defaults', 'logging', 'retryDelays'];
const WORKER_KEYS = ['enabled', 'concurrency', 'pollIntervalMs', 'leaseMs', 'sweepIntervalMs', 'shutdownTimeoutMs'];

/** A misspelt option (`concurency`) must not be silently ignored. */
function unknownKeys(o: object, known: readonly string[], prefix: string, problems: string[]): void {
  if (typeof o !== 'object' || o === null) return;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) problems.push(`${prefix}${key} is not an option (known: ${known.join(', ')})`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
