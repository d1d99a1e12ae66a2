/** Metadata keys, injection tokens and defaults. Imports nothing, so anything may import it. */
export const TASK_HANDLER_METADATA = 'tasker:task_handler';
export const STEP_METADATA = 'tasker:steps';
export const DEPENDS_ON_METADATA = 'tasker:depends_on';

/** Internal tokens: none is exported by the package. */
export const TASKER_DATABASE = Symbol('TASKER_DATABASE');
export const TASKER_CONFIG = Symbol('TASKER_CONFIG');
/** A RetryDelays: `real` in an app; the testing kit overrides it with `skip`. */
export const TASKER_RETRY_DELAYS = Symbol('TASKER_RETRY_DELAYS');

export const DEFAULT_SCHEMA = 'tasker';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_VERSION = '0.1.0';
export const DEFAULT_RETRY_LIMIT = 3;
export const DEFAULT_BACKOFF = { baseMs: 1_000, maxMs: 5 * 60_000, jitter: 0.2 } as const;
export const DEFAULT_WORKER = {
  enabled: true,
  concurrency: 10,
  prefetch: 0,
  pollIntervalMs: 1_000,
  leaseMs: 30_000,
  sweepIntervalMs: 5_000,
  priorityAgingMs: 10_000,
  shutdownTimeoutMs: 10_000,
} as const;
/** See TaskerModuleOptions.statementTimeoutMs. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
export const DEFAULT_LIST_LIMIT = 50;
export const DEFAULT_RETENTION_INTERVAL_MS = 60_000;
export const DEFAULT_RETENTION_BATCH = 500;
export const MAX_RETENTION_BATCH = 10_000;
/** Tasks a bulk retry or cancellation changes per transaction. */
export const BULK_ACTION_BATCH = 200;
/** Ids a bulk action's filter may list. */
export const MAX_BULK_IDS = 10_000;
export const MAX_LIST_LIMIT = 500;

/** Names of tasks, namespaces, versions and steps: what the database, URLs and metrics labels can carry safely. */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;
