import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AfterCommit } from './events/after-commit';
import { TaskerAuditService } from './tasker-audit.service';
import { TaskerEventBus } from './events/tasker-event-bus';
import { TaskerEvents } from './events/tasker-events';
import { DatabaseUnavailableError } from './errors/boot.errors';
import { FieldError, ScheduleNotFoundError, TaskNotFoundError, TaskValidationError, TaskWaitTimeoutError } from './errors/service.errors';
import type {
  ActorInput,
  AuditEntry,
  BulkResult,
  BulkTaskFilter,
  FailureGroup,
  FailureQuery,
  PurgeOptions,
  ScheduleRef,
  ScheduleView,
  TaskDetail,
  TaskPage,
  TaskQuery,
  TaskRequest,
  TaskerHealth,
  TaskerStats,
  TaskTypeView,
  TaskView,
  WorkerView,
} from './interfaces/views.interface';
import type { TaskerConfig } from './interfaces/tasker-options.interface';
import { DefinitionRepository } from './persistence/definition.repository';
import { pendingTaskerMigrations } from './persistence/migration.runner';
import { MonitoringRepository } from './persistence/monitoring.repository';
import { OperationsRepository } from './persistence/operations.repository';
import { BulkAction, BulkActions } from './orchestration/bulk.actions';
import { TaskPurger } from './orchestration/task.purger';
import { bulkFilterJson, bulkFilterProblems, failureQueryProblems, purgeProblems } from './validation/operations.validation';
import { ScheduleRepository, toScheduleView } from './persistence/schedule.repository';
import { compareVersions } from './registry/definition-builder';
import { MAX_CRON_LENGTH, normalizeCron } from './schedules/cron-schedule';
import { TaskerDatabase } from './persistence/tasker-database';
import { TransitionPublisher } from './orchestration/transition.publisher';
import { WorkSignals } from './orchestration/work.signals';
import { TaskerTracing } from './tracing/tasker-tracing';
import { TransitionRow, toStepView, toTaskView } from './persistence/rows';
import { NewTaskRow, TaskRepository } from './persistence/task.repository';
import { TaskRequestBuilder } from './orchestration/task-request.builder';
import { SETTLED_TASK_STATES, STATES, STEP_STATES } from './state/states';
import { DEFAULT_NAMESPACE, TASKER_CONFIG, TASKER_DATABASE } from './tasker.constants';
import {
  CREATE_TASKS_NOT_ARRAY,
  CREATE_TASKS_TOO_MANY,
  DATABASE_UNAVAILABLE_WHILE_WAITING,
  FIELD_FILTER_NOT_OBJECT,
  FIELD_CRON,
  FIELD_NAMESPACE,
  FIELD_NAMESPACE_FILTER,
  FIELD_NOT_ARRAY,
  FIELD_NOT_NON_NEGATIVE,
  FIELD_NOT_OBJECT,
  FIELD_SCHEDULE_NOT_OBJECT,
  FIELD_SIGNAL_NAME,
  FIELD_STEP_NAME,
  FIELD_TASK_NAME,
  FIELD_TASK_NAME_FILTER,
  FIELD_TOO_MANY_ITEMS,
  FIELD_UNKNOWN_FILTER,
  INVALID_ACTOR,
  INVALID_BULK_FILTER,
  INVALID_FAILURE_QUERY,
  INVALID_PURGE,
  INVALID_RESOLVE_STEP_INPUT,
  INVALID_SCHEDULE,
  INVALID_SCHEDULE_FILTER,
  INVALID_SIGNAL,
  INVALID_TASK_TYPE_FILTER,
  SCHEDULE_CHANGED_LOG,
  WAIT_OPTIONS_NOT_OBJECT,
  WAIT_TIMEOUT_INVALID,
} from './tasker.messages';
import { isValidName } from './validation/names.validation';
import {
  actorProblems,
  encodeCursor,
  hasLoneSurrogate,
  isTaskId,
  jsonProblems,
  printableId,
  LIMITS,
  normalizeQuery,
  summarize,
} from './validation/request.validation';
import { escapeLogText } from './events/log-text';

const DEFAULT_WAIT_MS = 60_000;

/** Options of createTask / createTasks. */
export interface CreateOptions {
  /** Write the task rows in this transaction: they exist if and only if it commits. */
  manager?: EntityManager;
  /** Who creates the task, recorded as the actor of its first audit entry (default: the request's initiator). */
  actor?: string;
}
const MAX_BULK = 10_000;

/** The public facade of Tasker: create, inspect, wait for, signal and operate on tasks. */
@Injectable()
export class TaskerService {
  private readonly logger = new Logger('Tasker');

  constructor(
    private readonly tasks: TaskRepository,
    private readonly requests: TaskRequestBuilder,
    private readonly audit: TaskerAuditService,
    private readonly bus: TaskerEventBus,
    private readonly publisher: TransitionPublisher,
    private readonly signals: WorkSignals,
    private readonly afterCommit: AfterCommit,
    private readonly tracing: TaskerTracing,
    private readonly definitions: DefinitionRepository,
    private readonly monitoring: MonitoringRepository,
    private readonly schedules: ScheduleRepository,
    private readonly operations: OperationsRepository,
    private readonly bulk: BulkActions,
    private readonly purger: TaskPurger,
    @Inject(TASKER_DATABASE) private readonly db: TaskerDatabase,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
  ) {}

  /**
   * Creates a task (its steps come from the registered definition). With `opts.manager` the rows
   * are written in the caller's transaction, and `tasker.task.created` is emitted when it commits.
   */
  async createTask(request: TaskRequest, opts?: CreateOptions): Promise<TaskView> {
    const [view] = await this.createTasks([request], opts);
    return view;
  }

  /** Creates many tasks in one transaction and one round-trip. */
  async createTasks(requests: TaskRequest[], opts?: CreateOptions): Promise<TaskView[]> {
    if (!Array.isArray(requests)) {
      throw new TaskValidationError(CREATE_TASKS_NOT_ARRAY(), [{ field: 'requests', messages: [FIELD_NOT_ARRAY()] }]);
    }
    if (requests.length > MAX_BULK) {
      throw new TaskValidationError(CREATE_TASKS_TOO_MANY(MAX_BULK), [{ field: 'requests', messages: [FIELD_TOO_MANY_ITEMS(MAX_BULK)] }]);
    }
    const actorErrors = actorProblems(opts?.actor === undefined ? undefined : { actor: opts.actor });
    if (actorErrors.length) throw new TaskValidationError(INVALID_ACTOR(summarize(actorErrors)), actorErrors);
    if (requests.length === 0) return [];
    const bulk = requests.length > 1;
    const rows: NewTaskRow[] = [];
    for (let i = 0; i < requests.length; i++) rows.push(await this.requests.build(requests[i], bulk ? `[${i}].` : '', opts?.actor));
    const manager = opts?.manager;
    // Tracked until task.created is out, so that the claims' events of this process come after it
    // (a caller's transaction commits later, on its own: its events follow that commit).
    const insert = () =>
      this.tracing.create(
        [...new Set(requests.map((r) => r.name))],
        (traceContext) => this.insertTasks(traceContext ? rows.map((r) => ({ ...r, traceContext })) : rows, opts),
      );
    return manager ? insert() : this.publisher.track(insert());
  }

  /** Writes the tasks (in the caller's transaction when given) and announces them after commit. */
  private async insertTasks(rows: NewTaskRow[], opts: CreateOptions | undefined): Promise<TaskView[]> {
    const manager = opts?.manager;
    // The rows as created, from the creating statement itself: a worker may start them right after.
    const created = await this.tasks.create(rows, manager);
    const views = created.map((c) => toTaskView(c.task));
    const fresh = views.filter((v, i) => created[i].created);
    if (fresh.length > 0) {
      this.afterCommit.run(manager, () => {
        for (const v of fresh) {
          this.bus.publish({
            event: TaskerEvents.TASK_CREATED,
            taskId: v.id,
            taskName: v.name,
            namespace: v.namespace,
            version: v.version,
            occurredAt: v.createdAt,
            ...(opts?.actor ?? v.initiator ? { actor: opts?.actor ?? v.initiator } : {}),
            ...(v.reason ? { reason: v.reason } : {}),
          });
          if (v.runAt && v.runAt.getTime() > Date.now()) this.signals.workAt(v.runAt);
        }
        this.signals.tasksCreated();
      });
    }
    return views;
  }

  /** A task with its steps: state, attempts, results, last error, timings, dependencies, readiness. */
  async getTask(id: string): Promise<TaskDetail> {
    if (!isTaskId(id)) throw new TaskNotFoundError(printableId(id));
    const [task] = await this.tasks.getTasks([id]);
    if (!task) throw new TaskNotFoundError(id);
    const steps = await this.tasks.getSteps(id);
    return { ...toTaskView(task), steps: steps.map(toStepView) };
  }

  /** Tasks newest first, filtered; pass `nextCursor` back as `cursor` for the next page. */
  async listTasks(query: TaskQuery = {}): Promise<TaskPage> {
    const q = normalizeQuery(query);
    const rows = await this.tasks.list({ ...q, limit: q.limit + 1 });
    const items = rows.slice(0, q.limit).map(toTaskView);
    const nextCursor = rows.length > q.limit ? encodeCursor(items[items.length - 1].id) : null;
    return { items, nextCursor };
  }

  /** Every transition of the task and its steps, in order, with actor, reason, attempt and error. */
  async getAuditTrail(id: string): Promise<AuditEntry[]> {
    if (!isTaskId(id)) throw new TaskNotFoundError(printableId(id));
    return this.audit.trail(id);
  }

  /**
   * Resolves when the task is complete, error, cancelled or resolved (a task in error waits for an
   * operator, so it counts as settled). Rejects with TaskWaitTimeoutError after `timeoutMs` (default 60 s).
   * A database that stops answering meanwhile (a restart) is waited for; if it still does not
   * answer at the deadline, rejects with DatabaseUnavailableError (the task's state is unknown).
   */
  async waitForTask(id: string, opts: { timeoutMs?: number } = {}): Promise<TaskDetail> {
    // Options that are not an object (null, a number...) are a caller's mistake to report, not a TypeError.
    if (opts === null || typeof opts !== 'object') {
      throw new TaskValidationError(WAIT_OPTIONS_NOT_OBJECT(), [{ field: 'opts', messages: [FIELD_NOT_OBJECT()] }]);
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new TaskValidationError(WAIT_TIMEOUT_INVALID(), [{ field: 'timeoutMs', messages: [FIELD_NOT_NON_NEGATIVE()] }]);
    }
    const deadline = Date.now() + timeoutMs;
    let detail: TaskDetail | undefined;
    let lost: DatabaseUnavailableError | undefined;
    // A database that is away (a restart) is waited for, within the timeout: the task goes on meanwhile.
    const poll = async () => {
      try {
        detail = await this.getTask(id);
        lost = undefined;
      } catch (e) {
        if (!(e instanceof DatabaseUnavailableError)) throw e;
        lost = e;
      }
      return detail && !lost && SETTLED_TASK_STATES.includes(detail.state);
    };
    if (await poll()) return detail!;
    let wake: () => void = () => undefined;
    // Events of this process wake us at once; the poll covers tasks run by other processes.
    const off = this.bus.onAny((_, p) => {
      if (p.taskId === id) wake();
    });
    try {
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) {
          if (lost) {
            const reason = (lost.cause as Error | undefined)?.message ?? lost.message;
            throw new DatabaseUnavailableError(DATABASE_UNAVAILABLE_WHILE_WAITING(id, timeoutMs, reason), lost.cause);
          }
          throw new TaskWaitTimeoutError(id, timeoutMs, detail!.state);
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 200));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        if (await poll()) return detail!;
      }
    } finally {
      off();
    }
  }

  /** Runs the failed steps of a task in `error` again, each with a fresh attempt budget; completed steps never run again. */
  async retryTask(id: string, by?: ActorInput): Promise<TaskView> {
    this.checkActor(id, by);
    return this.afterAction(id, () => this.tasks.retry(id, by?.actor ?? null, by?.reason ?? null));
  }

  /** Stops a task: no further step starts, waiting steps are cancelled, running steps see `signal` aborted. */
  async cancelTask(id: string, by?: ActorInput): Promise<TaskView> {
    this.checkActor(id, by);
    return this.afterAction(id, async () => {
      const rows = await this.tasks.cancel(id, by?.actor ?? null, by?.reason ?? null);
      this.signals.cancelled(id);
      return rows;
    });
  }

  /** Marks a pending or failed step `resolved_manually` with the given results; it counts as complete for its dependents. */
  async resolveStep(taskId: string, stepName: string, input: { results?: unknown } & ActorInput = {}): Promise<TaskView> {
    const problems: FieldError[] = actorProblems(input);
    // A NUL or a lone surrogate would reach Postgres as an invalid text (a raw driver error); no step
    // can be named so anyway.
    if (typeof stepName !== 'string' || stepName.length === 0 || stepName.length > 128 || stepName.includes('\u0000') || hasLoneSurrogate(stepName)) {
      problems.push({ field: 'stepName', messages: [FIELD_STEP_NAME()] });
    }
    const results = input?.results === undefined ? null : input.results;
    const rp = jsonProblems(results, LIMITS.contextBytes);
    if (rp.length) problems.push({ field: 'results', messages: rp });
    if (problems.length) throw new TaskValidationError(INVALID_RESOLVE_STEP_INPUT(summarize(problems)), problems);
    if (!isTaskId(taskId)) throw new TaskNotFoundError(printableId(taskId));
    // input may be null (no actor, no results): actorProblems accepts it, so read it with care.
    return this.afterAction(taskId, () =>
      this.tasks.resolveStep(taskId, stepName, JSON.stringify(results), input?.actor ?? null, input?.reason ?? null),
    );
  }

  /**
   * Sends signal `name` to a task: a step waiting for it (`ctx.waitForSignal(name)`) completes with
   * `payload` as its results; if none waits yet, the signal is kept for the step that will. A task
   * receives each signal name once: a second one is refused with InvalidTransitionError, as is a
   * signal to a finished task. The sender (`by.actor`) is recorded with the step's completion.
   */
  async signal(taskId: string, name: string, payload?: unknown, by?: ActorInput): Promise<TaskView> {
    const problems: FieldError[] = actorProblems(by);
    if (typeof name !== 'string' || !isValidName(name)) problems.push({ field: 'name', messages: [FIELD_SIGNAL_NAME()] });
    const value = payload === undefined ? null : payload;
    const pp = jsonProblems(value, LIMITS.contextBytes);
    if (pp.length) problems.push({ field: 'payload', messages: pp });
    if (problems.length) throw new TaskValidationError(INVALID_SIGNAL(summarize(problems)), problems);
    if (!isTaskId(taskId)) throw new TaskNotFoundError(printableId(taskId));
    return this.afterAction(taskId, () => this.tasks.signal(taskId, name, JSON.stringify(value), by?.actor ?? null, by?.reason ?? null));
  }

  /**
   * The failures inbox: tasks in `error` grouped by task type and version, step (a map step's
   * instances under the map step's name) and error code (or message, without a code), the largest
   * groups first, each with up to 20 task ids (newest first) and when its first and latest failure happened.
   */
  async listFailures(query?: FailureQuery): Promise<FailureGroup[]> {
    const problems = failureQueryProblems(query);
    if (problems.length) throw new TaskValidationError(INVALID_FAILURE_QUERY(summarize(problems)), problems);
    const rows = await this.operations.failures(query?.namespace ?? null, query?.name ?? null);
    return rows.map((r) => ({
      namespace: r.namespace,
      name: r.name,
      version: r.version,
      stepName: r.step_name,
      ...(r.code !== null ? { code: r.code } : {}),
      message: r.message,
      count: r.count,
      taskIds: r.task_ids,
      firstAt: r.first_at,
      lastAt: r.last_at,
    }));
  }

  /**
   * Retries every task in `error` that matches the filter (at least one field), as retryTask does:
   * each with its own audit entries (`by`) and events. Done in batches of a few hundred tasks per
   * transaction; tasks not in error are left alone and not counted.
   */
  retryTasks(filter: BulkTaskFilter, by?: ActorInput): Promise<BulkResult> {
    return this.bulkAction('retry', filter, by);
  }

  /**
   * Cancels every unfinished task that matches the filter (at least one field), as cancelTask does:
   * each with its own audit entries (`by`) and events, in batches; finished tasks are left alone and not counted.
   */
  cancelTasks(filter: BulkTaskFilter, by?: ActorInput): Promise<BulkResult> {
    return this.bulkAction('cancel', filter, by);
  }

  private async bulkAction(action: BulkAction, filter: BulkTaskFilter, by: ActorInput | undefined): Promise<BulkResult> {
    const problems = [...bulkFilterProblems(filter), ...actorProblems(by)];
    if (problems.length) throw new TaskValidationError(INVALID_BULK_FILTER(summarize(problems)), problems);
    return this.bulk.run(action, bulkFilterJson(filter), by?.actor ?? null, by?.reason ?? null);
  }

  /**
   * Deletes the tasks that finished (`complete`, `cancelled`, `resolved_manually`, or only `states`)
   * before `finishedBefore`, with their steps and audit trail, in batches; tasks in `error` are never
   * deleted (cancel them first). What the `retention` option does on a schedule.
   */
  async purgeTasks(options: PurgeOptions): Promise<BulkResult> {
    const problems = purgeProblems(options);
    if (problems.length) throw new TaskValidationError(INVALID_PURGE(summarize(problems)), problems);
    return { count: await this.purger.purge(options.finishedBefore, options.states) };
  }

  /** Every task type registered by any process on this database, with its step graph. */
  async listTaskTypes(filter: { namespace?: string; name?: string } = {}): Promise<TaskTypeView[]> {
    // Checked like listTasks' filters: a non-string would reach Postgres as a raw driver error.
    const problems: FieldError[] = [];
    if (filter === null || typeof filter !== 'object') problems.push({ field: 'filter', messages: [FIELD_FILTER_NOT_OBJECT()] });
    else {
      for (const key of Object.keys(filter)) if (key !== 'namespace' && key !== 'name') problems.push({ field: key, messages: [FIELD_UNKNOWN_FILTER()] });
      if (filter.namespace !== undefined && !isValidName(filter.namespace)) problems.push({ field: 'namespace', messages: [FIELD_NAMESPACE_FILTER()] });
      if (filter.name !== undefined && !isValidName(filter.name)) problems.push({ field: 'name', messages: [FIELD_TASK_NAME_FILTER()] });
    }
    if (problems.length) throw new TaskValidationError(INVALID_TASK_TYPE_FILTER(summarize(problems)), problems);
    const rows = await this.definitions.find(filter.namespace, filter.name);
    return rows.map((r) => ({
      namespace: r.namespace,
      name: r.name,
      version: r.version,
      description: r.description,
      steps: r.definition.steps.map((st) => ({
        name: st.name,
        description: st.description,
        dependsOn: st.dependsOn,
        retryLimit: st.retryLimit,
        retryable: st.retryable,
        timeoutMs: st.timeoutMs,
      })),
      registeredAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  /**
   * The cron schedules of every task type version (`@TaskHandler({ schedules })`), as the processes
   * that have the handlers recorded them: next and last runs, the last task, paused or not, the last
   * pause or resume. Ordered by namespace, name and expression, the highest version first.
   */
  async listSchedules(filter: { namespace?: string; name?: string } = {}): Promise<ScheduleView[]> {
    const problems: FieldError[] = [];
    if (filter === null || typeof filter !== 'object') problems.push({ field: 'filter', messages: [FIELD_FILTER_NOT_OBJECT()] });
    else {
      for (const key of Object.keys(filter)) if (key !== 'namespace' && key !== 'name') problems.push({ field: key, messages: [FIELD_UNKNOWN_FILTER()] });
      if (filter.namespace !== undefined && !isValidName(filter.namespace)) problems.push({ field: 'namespace', messages: [FIELD_NAMESPACE_FILTER()] });
      if (filter.name !== undefined && !isValidName(filter.name)) problems.push({ field: 'name', messages: [FIELD_TASK_NAME_FILTER()] });
    }
    if (problems.length) throw new TaskValidationError(INVALID_SCHEDULE_FILTER(summarize(problems)), problems);
    return sortSchedules((await this.schedules.list(filter.namespace, filter.name)).map(toScheduleView));
  }

  /**
   * Pauses a schedule: no task is created for its ticks until it is resumed. Named by namespace,
   * task name and cron expression, it pauses that expression in every version of the task that
   * declares it (and a version deployed later starts paused). Who and why (`by`) are recorded
   * (`lastChange`, the schedule_events table) and logged. Pausing a paused schedule changes nothing.
   * Unknown schedule → ScheduleNotFoundError. Returns the schedules it names.
   */
  pauseSchedule(schedule: ScheduleRef, by?: ActorInput): Promise<ScheduleView[]> {
    return this.setSchedulePaused(schedule, true, by);
  }

  /**
   * Resumes a paused schedule (every version's, as pauseSchedule): its next task is for its first
   * tick after now; the ticks missed while paused are not run.
   */
  resumeSchedule(schedule: ScheduleRef, by?: ActorInput): Promise<ScheduleView[]> {
    return this.setSchedulePaused(schedule, false, by);
  }

  private async setSchedulePaused(ref: ScheduleRef, paused: boolean, by: ActorInput | undefined): Promise<ScheduleView[]> {
    const problems: FieldError[] = actorProblems(by);
    if (ref === null || typeof ref !== 'object') problems.push({ field: 'schedule', messages: [FIELD_SCHEDULE_NOT_OBJECT()] });
    else {
      if (ref.namespace !== undefined && !isValidName(ref.namespace)) problems.push({ field: 'namespace', messages: [FIELD_NAMESPACE()] });
      if (!isValidName(ref.name)) problems.push({ field: 'name', messages: [FIELD_TASK_NAME()] });
      const c = ref.cron as unknown;
      if (typeof c !== 'string' || c.trim() === '' || c.length > MAX_CRON_LENGTH || c.includes('\u0000') || hasLoneSurrogate(c)) {
        problems.push({ field: 'cron', messages: [FIELD_CRON(MAX_CRON_LENGTH)] });
      }
    }
    if (problems.length) throw new TaskValidationError(INVALID_SCHEDULE(summarize(problems)), problems);
    const namespace = ref.namespace ?? DEFAULT_NAMESPACE;
    const cron = normalizeCron(ref.cron);
    const actor = by?.actor ?? null;
    const reason = by?.reason ?? null;
    const ids = await this.schedules.setPaused(namespace, ref.name, cron, paused, actor, reason);
    if (ids.length === 0) throw new ScheduleNotFoundError(namespace, ref.name, cron);
    const views = sortSchedules((await this.schedules.list(namespace, ref.name)).filter((r) => ids.includes(r.id)).map(toScheduleView));
    this.logger.log(escapeLogText(SCHEDULE_CHANGED_LOG(paused ? 'paused' : 'resumed', cron, views.map((v) => `${v.namespace}/${v.name}@${v.version}`), actor, reason)));
    return views;
  }

  /** Workers that refreshed their heartbeat within one lease period. */
  async listWorkers(): Promise<WorkerView[]> {
    const rows = await this.monitoring.workers(this.config.worker.leaseMs);
    return rows.map((w) => ({
      id: w.id,
      hostname: w.hostname,
      pid: w.pid,
      concurrency: w.concurrency,
      inFlight: w.in_flight,
      taskTypes: w.task_types,
      startedAt: w.started_at,
      lastSeenAt: w.last_seen_at,
    }));
  }

  /** Tasks and steps by state, and how many workers are alive. */
  async stats(): Promise<TaskerStats> {
    const zero = <S extends string>(states: readonly S[]) => Object.fromEntries(states.map((st) => [st, 0])) as Record<S, number>;
    const out: TaskerStats = { tasks: zero(STATES), steps: zero(STEP_STATES), held: await this.monitoring.heldCounts(), workersAlive: 0 };
    for (const r of await this.monitoring.stateCounts()) {
      if (r.kind === 'task') out.tasks[r.state as keyof TaskerStats['tasks']] = r.n;
      else out.steps[r.state as keyof TaskerStats['steps']] = r.n;
    }
    out.workersAlive = (await this.monitoring.workers(this.config.worker.leaseMs)).length;
    return out;
  }

  /** Whether Postgres answers and the schema has every migration this version needs. Never throws. */
  async health(): Promise<TaskerHealth> {
    try {
      await this.monitoring.ping();
      return { database: 'up', pendingMigrations: await pendingTaskerMigrations(this.db.dataSource, this.config.schema) };
    } catch (e) {
      return { database: 'down', error: (e as Error).message, pendingMigrations: [] };
    }
  }

  private checkActor(id: string, by: ActorInput | undefined): void {
    const problems = actorProblems(by);
    if (problems.length) throw new TaskValidationError(INVALID_ACTOR(summarize(problems)), problems);
    if (!isTaskId(id)) throw new TaskNotFoundError(printableId(id));
  }

  /** Runs an operator action and publishes its transitions; claims that follow from it are published after them. */
  private async afterAction(id: string, action: () => Promise<TransitionRow[]>): Promise<TaskView> {
    await this.publisher.change(action(), (rows) => rows);
    this.signals.work();
    const [task] = await this.tasks.getTasks([id]);
    if (!task) throw new TaskNotFoundError(id);
    return toTaskView(task);
  }
}

/** By namespace, name and expression; the highest version first. */
function sortSchedules(views: ScheduleView[]): ScheduleView[] {
  const key = (v: ScheduleView) => [v.namespace, v.name, v.cron];
  return views.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return compareVersions(b.version, a.version);
  });
}
