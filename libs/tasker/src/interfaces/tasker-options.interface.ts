import type { BackoffOptions } from './backoff-options.interface';

/** Options of `TaskerModule.forRoot` / `forRootAsync`. */
export interface TaskerModuleOptions {
  /** PostgreSQL connection string; Tasker opens its own TypeORM DataSource. */
  databaseUrl?: string;
  /** Name of a DataSource registered with `TypeOrmModule` to reuse instead (`'default'` for the unnamed one). */
  dataSourceName?: string;
  /** Postgres schema holding Tasker's tables and functions. Default `tasker`. */
  schema?: string;
  /** Apply Tasker's migrations at boot (safe with many processes booting at once). Default `true`. */
  migrationsRun?: boolean;
  /** Size of the connection pool Tasker opens (own DataSource only). Default 10. */
  poolSize?: number;
  /**
   * How long one of Tasker's own statements (and getting a connection for it) may take. Past it,
   * the connection is taken for dead and closed, and the statement fails as a connection error
   * (which the worker retries): a connection that went silent (a lost route, a stuck proxy) would
   * otherwise hang the worker for good. Default 60000 ms.
   */
  statementTimeoutMs?: number;
  worker?: WorkerOptions;
  defaults?: {
    /** Total attempts of a step (first try included). Default 3. */
    retryLimit?: number;
    backoff?: Partial<BackoffOptions>;
  };
  /** Structured log lines for every lifecycle event through Nest's Logger. Default `true`. */
  logging?: boolean;
  /** Delete finished tasks after a while. Default: tasks are kept for ever. */
  retention?: RetentionOptions;
}

/**
 * Retention: a sweep deletes the tasks that finished (`complete`, `cancelled`, `resolved_manually`)
 * more than `finishedAfterMs` ago, with their steps and audit trail, in small batches. Tasks in
 * `error` are kept. It runs in every process that sets this option, also one with
 * `worker.enabled: false`; two processes sweeping at once delete each task once.
 */
export interface RetentionOptions {
  /** How long a finished task is kept, in ms (from when it finished). Required. */
  finishedAfterMs: number;
  /** How often the sweep looks for tasks to delete. Default 60000 ms. */
  intervalMs?: number;
  /** Tasks deleted per transaction. Default 500. */
  batchSize?: number;
}

export interface WorkerOptions {
  /** `false`: this process never executes steps (API-only). Default `true`. */
  enabled?: boolean;
  /** Steps running at once in this process. Default 10. */
  concurrency?: number;
  /**
   * Steps claimed beyond `concurrency` and held in this process, each started as soon as a running
   * one finishes. Default 0. For short steps: the next steps are claimed while the current ones run,
   * in batches up to `concurrency + prefetch`, so the worker and the database work at the same time.
   * A held step is in progress from its claim (its attempt, `startedAt`, `step.started` event,
   * `durationMs` and lease begin there, and no other worker can take it; its `timeoutMs` counts from
   * when its body starts): leave it at 0 for steps that run long, or it waits behind them instead of
   * running elsewhere. A worker that crashes cannot give its held steps back: each lapses with its
   * lease, an attempt used although its body never ran.
   */
  prefetch?: number;
  /** How often to look for ready work when nothing wakes the worker. Default 1000 ms. */
  pollIntervalMs?: number;
  /** How long a claimed attempt is owned without renewal; renewed automatically while it runs. Default 30000 ms. */
  leaseMs?: number;
  /** How often the safety-net sweep reclaims expired leases. Default 5000 ms. */
  sweepIntervalMs?: number;
  /**
   * A ready step that has waited this long is claimed before higher-priority work (one claim slot in
   * ten is kept for such steps), so low priority never means never. Default 10000 ms.
   */
  priorityAgingMs?: number;
  /** At shutdown, how long running steps may take to finish before they are aborted and released. Default 10000 ms. */
  shutdownTimeoutMs?: number;
}

/** Options after defaults and validation; what the internals use. */
export interface TaskerConfig {
  databaseUrl?: string;
  dataSourceName?: string;
  schema: string;
  migrationsRun: boolean;
  poolSize: number;
  statementTimeoutMs: number;
  worker: Required<WorkerOptions>;
  defaults: { retryLimit: number; backoff: BackoffOptions };
  logging: boolean;
  /** null: no retention sweep. */
  retention: Required<RetentionOptions> | null;
}

/**
 * Whether a failed attempt that will be retried waits for its backoff or Retry-After (`real`), or
 * is retried at once (`skip`: same decisions, same attempt counts). Not an option: always `real` in
 * an app; the testing kit overrides the TASKER_RETRY_DELAYS provider with `skip`.
 */
export type RetryDelays = 'real' | 'skip';
