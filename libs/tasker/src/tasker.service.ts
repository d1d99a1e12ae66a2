import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AfterCommit } from './events/after-commit';
import { TaskerAuditService } from './tasker-audit.service';
import { TaskerEventBus } from './events/tasker-event-bus';
import { TaskerEvents } from './events/tasker-events';
import { DatabaseUnavailableError } from './errors/boot.errors';
import { FieldError, TaskNotFoundError, TaskValidationError, TaskWaitTimeoutError } from './errors/service.errors';
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
import { FleetReader } from './operations/fleet.reader';
import { OperatorActions } from './operations/operator.actions';
import { ScheduleCatalog } from './operations/schedule.catalog';
import { TransitionPublisher } from './orchestration/transition.publisher';
import { WorkSignals } from './orchestration/work.signals';
import { TaskerTracing } from './tracing/tasker-tracing';
import { TransitionRow, toStepView, toTaskView } from './persistence/rows';
import { NewTaskRow, TaskRepository } from './persistence/task.repository';
import { TaskRequestBuilder } from './orchestration/task-request.builder';
import { SETTLED_TASK_STATES } from './state/states';
import { TASKER_CONFIG } from './tasker.constants';
import {
  CREATE_TASKS_NOT_ARRAY,
  CREATE_TASKS_TOO_MANY,
  DATABASE_UNAVAILABLE_WHILE_WAITING,
  FIELD_NOT_ARRAY,
  FIELD_NOT_NON_NEGATIVE,
  FIELD_NOT_OBJECT,
  FIELD_SIGNAL_NAME,
  FIELD_STEP_NAME,
  FIELD_TOO_MANY_ITEMS,
  INVALID_ACTOR,
  INVALID_RESOLVE_STEP_INPUT,
  INVALID_SIGNAL,
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
  constructor(
    private readonly tasks: TaskRepository,
    private readonly requests: TaskRequestBuilder,
    private readonly audit: TaskerAuditService,
    private readonly bus: TaskerEventBus,
    private readonly publisher: TransitionPublisher,
    private readonly signals: WorkSignals,
    private readonly afterCommit: AfterCommit,
    private readonly tracing: TaskerTracing,
    private readonly operator: OperatorActions,
    private readonly fleet: FleetReader,
    private readonly scheduleCatalog: ScheduleCatalog,
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
  listFailures(query?: FailureQuery): Promise<FailureGroup[]> {
    return this.operator.listFailures(query);
  }

  /**
   * Retries every task in `error` that matches the filter (at least one field), as retryTask does:
   * each with its own audit entries (`by`) and events. Done in batches of a few hundred tasks per
   * transaction; tasks not in error are left alone and not counted.
   */
  retryTasks(filter: BulkTaskFilter, by?: ActorInput): Promise<BulkResult> {
    return this.operator.bulk('retry', filter, by);
  }

  /**
   * Cancels every unfinished task that matches the filter (at least one field), as cancelTask does:
   * each with its own audit entries (`by`) and events, in batches; finished tasks are left alone and not counted.
   */
  cancelTasks(filter: BulkTaskFilter, by?: ActorInput): Promise<BulkResult> {
    return this.operator.bulk('cancel', filter, by);
  }

  /**
   * Deletes the tasks that finished (`complete`, `cancelled`, `resolved_manually`, or only `states`)
   * before `finishedBefore`, with their steps and audit trail, in batches; tasks in `error` are never
   * deleted (cancel them first). What the `retention` option does on a schedule.
   */
  purgeTasks(options: PurgeOptions): Promise<BulkResult> {
    return this.operator.purgeTasks(options);
  }

  /** Every task type registered by any process on this database, with its step graph. */
  listTaskTypes(filter: { namespace?: string; name?: string } = {}): Promise<TaskTypeView[]> {
    return this.fleet.listTaskTypes(filter);
  }

  /**
   * The cron schedules of every task type version (`@TaskHandler({ schedules })`), as the processes
   * that have the handlers recorded them: next and last runs, the last task, paused or not, the last
   * pause or resume. Ordered by namespace, name and expression, the highest version first.
   */
  listSchedules(filter: { namespace?: string; name?: string } = {}): Promise<ScheduleView[]> {
    return this.scheduleCatalog.list(filter);
  }

  /**
   * Pauses a schedule: no task is created for its ticks until it is resumed. Named by namespace,
   * task name and cron expression, it pauses that expression in every version of the task that
   * declares it (and a version deployed later starts paused). Who and why (`by`) are recorded
   * (`lastChange`, the schedule_events table) and logged. Pausing a paused schedule changes nothing.
   * Unknown schedule → ScheduleNotFoundError. Returns the schedules it names.
   */
  pauseSchedule(schedule: ScheduleRef, by?: ActorInput): Promise<ScheduleView[]> {
    return this.scheduleCatalog.setPaused(schedule, true, by);
  }

  /**
   * Resumes a paused schedule (every version's, as pauseSchedule): its next task is for its first
   * tick after now; the ticks missed while paused are not run.
   */
  resumeSchedule(schedule: ScheduleRef, by?: ActorInput): Promise<ScheduleView[]> {
    return this.scheduleCatalog.setPaused(schedule, false, by);
  }

  /** Workers that refreshed their heartbeat within one lease period. */
  listWorkers(): Promise<WorkerView[]> {
    return this.fleet.listWorkers();
  }

  /** Tasks and steps by state, and how many workers are alive. */
  stats(): Promise<TaskerStats> {
    return this.fleet.stats();
  }

  /** Whether Postgres answers and the schema has every migration this version needs. Never throws. */
  health(): Promise<TaskerHealth> {
    return this.fleet.health();
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
