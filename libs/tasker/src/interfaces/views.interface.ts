import type { StepState, TaskState } from '../state/states';

export type { StepState, TaskState };

/** A request to start a task. */
export interface TaskRequest {
  name: string;
  /** Default `default`. */
  namespace?: string;
  /** Default: the highest registered version. */
  version?: string;
  context?: Record<string, unknown>;
  initiator?: string;
  sourceSystem?: string;
  reason?: string;
  tags?: string[];
  /** Same key (per namespace and name) returns the existing task instead of creating one. */
  idempotencyKey?: string;
  /** Delayed start: no step runs before this time. */
  runAt?: Date;
  /** −100…100, default 0: among ready steps, those of higher-priority tasks are claimed first. */
  priority?: number;
  /** The value of the task type's concurrency key for this task, instead of the one read from its context. */
  concurrencyKey?: string;
}

export interface TaskView {
  id: string;
  name: string;
  namespace: string;
  version: string;
  state: TaskState;
  context: Record<string, unknown>;
  tags: string[];
  initiator?: string;
  sourceSystem?: string;
  reason?: string;
  idempotencyKey?: string;
  runAt?: Date | null;
  priority: number;
  createdAt: Date;
  updatedAt: Date;
  completedAt?: Date | null;
  /** Only in lists with `maxContextBytes`: the context was larger, and is listed as `{}`. */
  contextTruncated?: true;
  /** A child task: the task whose step started it (`ctx.startChild`), and that step. */
  parentTaskId?: string;
  parentStepName?: string;
}

export interface StepError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Why a step is or is not ready to run, as Postgres sees it now. */
export interface StepReadiness {
  ready: boolean;
  /**
   * Why: a short code (`ready`, `waiting_for_dependencies`, `waiting_for_retry`, `running`, `done`,
   * `attempts_exhausted`, `cancelled`, `not_before_run_at`, `task_finished`), or what holds a step of
   * a dynamic workflow, as a sentence: `condition false`, `all parents skipped`,
   * `waiting for signal "approved"`, `waiting for child task 42`, `sleeping until <ISO time>`,
   * `waiting for 3 of 10 instances`, `waiting for a free place (maxParallel 20)`; and for flow control
   * `concurrency limit (<task or step>:<key>: 2/2 running)`, `rate limited (<bucket>:<key>: 100/100 per 1 s)`.
   */
  reason: string;
  parentsDone: number;
  parentsTotal: number;
  attempts: number;
  retryLimit: number;
  availableAt: Date | null;
}

export interface StepView {
  id: string;
  name: string;
  state: StepState;
  dependsOn: string[];
  attempts: number;
  retryLimit: number;
  retryable: boolean;
  timeoutMs?: number | null;
  results?: unknown;
  lastError?: StepError | null;
  nextRetryAt?: Date | null;
  startedAt?: Date | null;
  completedAt?: Date | null;
  durationMs?: number | null;
  readiness: StepReadiness;
  /** An instance of a map step: the map step's name and the item's position (the step is named `<mapOf>[<mapIndex>]`). */
  mapOf?: string;
  mapIndex?: number;
  /** A map step that expanded: how many instances it has, and in which states. */
  instances?: { total: number; done: number; running: number; failed: number };
  /** A step that started a child task (`ctx.startChild`): that task, also once the wait ended. */
  childTaskId?: string;
  /** A waiting step: what it waits for (`signal` and its name, `child` and its task id, `sleep` until when, `map`). */
  waitingFor?: { kind: 'signal'; name: string; until?: Date } | { kind: 'child'; taskId: string } | { kind: 'sleep'; until: Date } | { kind: 'map' };
}

export interface TaskDetail extends TaskView {
  steps: StepView[];
}

export interface TaskQuery {
  state?: TaskState;
  namespace?: string;
  name?: string;
  tag?: string;
  /** Default 50, max 500. */
  limit?: number;
  cursor?: string;
  /**
   * Bounds each item's context: a context larger than this many bytes (as JSON text) is listed as
   * `{}` with `contextTruncated: true`, and never read whole from the database (getTask has it all).
   * Default: no bound. The admin API's list uses 8 KB.
   */
  maxContextBytes?: number;
}

export interface TaskPage {
  items: TaskView[];
  nextCursor: string | null;
}

export interface AuditEntry {
  taskId: string;
  /** null for the task's own transitions. */
  stepName?: string | null;
  /** A step's entries may name its own states too (`skipped`, `waiting`). */
  from: StepState | null;
  to: StepState;
  at: Date;
  attempt?: number;
  actor?: string;
  reason?: string;
  error?: { name: string; message: string; code?: string } | null;
}

/** Who performs an operator action, for the audit trail. */
export interface ActorInput {
  actor?: string;
  reason?: string;
}

/** A registered task type, as recorded in the database by the processes that have its handler. */
export interface TaskTypeView {
  namespace: string;
  name: string;
  version: string;
  description?: string | null;
  steps: {
    name: string;
    description?: string | null;
    dependsOn: string[];
    retryLimit: number;
    retryable: boolean;
    timeoutMs?: number | null;
  }[];
  registeredAt: Date;
  updatedAt: Date;
}

/**
 * A cron schedule of a task type version (`@TaskHandler({ schedules })`), as recorded by the
 * processes that have its handler.
 */
export interface ScheduleView {
  namespace: string;
  name: string;
  version: string;
  /** The expression as declared (fields separated by one space): with namespace and name, what pause and resume take. */
  cron: string;
  /** The IANA time zone the expression is read in (`UTC` unless declared). */
  timezone: string;
  /** The context of each task it creates. */
  context: Record<string, unknown>;
  /** The next tick; `null` while paused (a resumed schedule goes on from its first tick after the resume). */
  nextRunAt: Date | null;
  /** The tick of the last task it created (that task's `runAt`). */
  lastRunAt: Date | null;
  lastTaskId: string | null;
  paused: boolean;
  /** The last pause or resume of this schedule: who, why, when. */
  lastChange: { action: 'paused' | 'resumed'; actor?: string; reason?: string; at: Date } | null;
  /** The last tick that could not create its task (it was skipped), and why; cleared by the next task created. */
  lastError: string | null;
  /** When a process that has the handler last declared it (at its boot). */
  declaredAt: Date;
}

/** Names a schedule: its task (namespace default `default`) and its cron expression as declared. */
export interface ScheduleRef {
  namespace?: string;
  name: string;
  cron: string;
}

/** A worker process seen recently (it refreshes its row every lease-renewal tick). */
export interface WorkerView {
  id: string;
  hostname: string;
  pid: number;
  /** The steps it may hold at once: its `worker.concurrency`, plus its `worker.prefetch`. */
  concurrency: number;
  /** The steps it holds now: running, being recorded, or claimed ahead (prefetch). */
  inFlight: number;
  taskTypes: string[];
  startedAt: Date;
  lastSeenAt: Date;
}

/** Counts by state, for dashboards and metrics. */
export interface TaskerStats {
  tasks: Record<TaskState, number>;
  steps: Record<StepState, number>;
  /** Steps held back by flow control now: by a full concurrency key, by a rate limit. */
  held: { concurrency_limit: number; rate_limited: number };
  workersAlive: number;
}

/** What a readiness probe needs: is Postgres reachable, is the schema migrated. */
export interface TaskerHealth {
  database: 'up' | 'down';
  error?: string;
  pendingMigrations: string[];
}

/** A filter of `listFailures`. */
export interface FailureQuery {
  namespace?: string;
  name?: string;
}

/**
 * Tasks in `error` that failed the same way: same task type and version, same step (an instance of
 * a map step counts as its map step), same error code, and same message too when the code says
 * nothing of the cause (none, or only the class's default `PERMANENT` / `RETRYABLE`).
 */
export interface FailureGroup {
  namespace: string;
  name: string;
  version: string;
  stepName: string;
  /** The error code (`new PermanentError(message, { code })`), when the errors have one. */
  code?: string;
  /** The message of the latest failure of the group. */
  message: string;
  /** How many tasks are in this group. */
  count: number;
  /** Up to 20 of its tasks, newest first. */
  taskIds: string[];
  /** When the first and the latest of those steps failed for good. */
  firstAt: Date;
  lastAt: Date;
}

/**
 * Which tasks a bulk action acts on: those matching every field given (at least one). `stepName`
 * and `code` match a task with a step that failed for good at that step / with that error code.
 */
export interface BulkTaskFilter {
  ids?: string[];
  state?: TaskState;
  namespace?: string;
  name?: string;
  version?: string;
  stepName?: string;
  code?: string;
}

/** What a bulk action or a purge did: how many tasks it changed or deleted. */
export interface BulkResult {
  count: number;
}

/** What `purgeTasks` deletes: tasks in `states` (default all finished ones) that finished before `finishedBefore`. */
export interface PurgeOptions {
  finishedBefore: Date;
  /** Any of `complete`, `cancelled`, `resolved_manually` (the default: all three). */
  states?: TaskState[];
}
