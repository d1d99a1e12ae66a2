import type { INestApplicationContext, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import type { TaskerEventName, TaskerEventPayload } from '../events/tasker-events';
import { TaskerConfigError } from '../errors/boot.errors';
import { HandlerNotFoundError } from '../errors/service.errors';
import type { RetryDelays, TaskerModuleOptions } from '../interfaces/tasker-options.interface';
import type { ActorInput, StepState, StepView, TaskDetail, TaskRequest, TaskView } from '../interfaces/views.interface';
import { compareVersions } from '../registry/definition-builder';
import { SETTLED_TASK_STATES } from '../state/states';
import { DEFAULT_NAMESPACE, TASKER_RETRY_DELAYS } from '../tasker.constants';
import { TaskerInternals } from '../tasker.internals';
import { KIT_RETRY_DELAYS_INVALID } from '../tasker.messages';
import { TaskerModule } from '../tasker.module';
import { TaskerService } from '../tasker.service';
import { StepFault, StepFaults } from './step-faults';
import { acquireDatabase, dropSchema, uniqueTestSchema } from './throwaway-database';

export interface TaskerTestingOptions {
  /** Your handler classes and what they inject. */
  providers?: Provider[];
  imports?: ModuleMetadata['imports'];
  /** Merged over the testing defaults (own schema, quick polls, retries without waiting, no logs). */
  tasker?: Omit<TaskerModuleOptions, 'databaseUrl' | 'dataSourceName'> & {
    /**
     * `skip` (the kit's default): a failed attempt that will be retried is retried at once instead
     * of after its backoff or Retry-After (same decisions, same attempt counts). `real`: waits.
     * A switch of the kit, not a TaskerModule option.
     */
    retryDelays?: RetryDelays;
  };
  /** Default: DATABASE_URL, else an embedded Postgres started for this test process. */
  databaseUrl?: string;
  /** Adjust the testing module before it compiles (e.g. `.overrideProvider(PaymentsApi).useValue(fake)`). */
  configure?: (builder: ReturnType<typeof Test.createTestingModule>) => ReturnType<typeof Test.createTestingModule>;
}

/** Identifies a task type; namespace defaults to `default`, version to the only or highest one registered here. */
export interface TaskTypeRef {
  name: string;
  namespace?: string;
  version?: string;
}

/**
 * A Nest app with Tasker on a throwaway schema of a real Postgres, plus what tests need: run a
 * task to its end, make steps fail, and read the events, step order and results.
 */
export class TaskerTestingApp {
  /** Every Tasker event this app emitted, in order. */
  readonly events: TaskerEventPayload[] = [];
  private readonly faults = new StepFaults();

  constructor(
    readonly app: INestApplicationContext,
    readonly tasker: TaskerService,
    readonly schema: string,
    private readonly cleanup: () => Promise<void>,
    /** The Postgres server this app uses (DATABASE_URL, or the embedded one), e.g. for a child process of your test. */
    readonly databaseUrl: string,
  ) {
    app.get(EventEmitter2).onAny((name: string | string[], payload: TaskerEventPayload) => {
      if (typeof name === 'string' && name.startsWith('tasker.')) this.events.push(payload);
    });
  }

  get<T>(token: Type<T> | string | symbol): T {
    return this.app.get(token as never);
  }

  /** Creates the task and waits until it is complete, error, cancelled or resolved; returns its detail. */
  async run(request: TaskRequest, opts: { timeoutMs?: number } = {}): Promise<TaskDetail> {
    const task = await this.tasker.createTask(request);
    return this.tasker.waitForTask(task.id, { timeoutMs: opts.timeoutMs ?? 30_000 });
  }

  /**
   * Makes a step fail (`times` attempts, or `permanent`ly) without touching its code. Returns a
   * counter of the failures injected so far. `restoreSteps()` (or `close()`) undoes it.
   */
  failStep(type: TaskTypeRef, stepName: string, fault: StepFault = {}): { failures(): number } {
    return this.faults.inject(this.handler(type), stepName, fault);
  }

  restoreSteps(): void {
    this.faults.restore();
  }

  /** Events of one task, in the order they were emitted. */
  eventsFor(taskId: string, event?: TaskerEventName): TaskerEventPayload[] {
    return this.events.filter((e) => e.taskId === taskId && (event === undefined || e.event === event));
  }

  /** Step names in the order they completed (or were resolved), from the audit trail. */
  async completionOrder(taskId: string): Promise<string[]> {
    const trail = await this.tasker.getAuditTrail(taskId);
    return trail.filter((e) => e.stepName && (e.to === 'complete' || e.to === 'resolved_manually')).map((e) => e.stepName!);
  }

  /**
   * Sends signal `name` to a task (`TaskerService.signal`): the step waiting for it, or the next one
   * to wait for it, completes with `payload`; `by.actor` is recorded as the sender.
   */
  signal(taskId: string, name: string, payload?: unknown, by?: ActorInput): Promise<TaskView> {
    return this.tasker.signal(taskId, name, payload, by);
  }

  /**
   * Waits until a step of the task is in `state` (or one of several), e.g. `'waiting'` before sending
   * its signal, and returns that step. A map instance (`'resize[2]'`) is found once its map step has
   * expanded. Rejects when the task settles without the step getting there, or after `timeoutMs`
   * (default 30 s), saying where the step is.
   */
  async waitForStep(taskId: string, stepName: string, state: StepState | readonly StepState[], opts: { timeoutMs?: number } = {}): Promise<StepView> {
    const wanted: readonly StepState[] = typeof state === 'string' ? [state] : state;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let wake: () => void = () => undefined;
    // This app's events for the task wake the poll early; the poll covers other processes' workers.
    const bus = this.app.get(EventEmitter2);
    const listener = (_: unknown, payload: TaskerEventPayload) => {
      if (payload?.taskId === taskId) wake();
    };
    bus.onAny(listener);
    try {
      let settledOnce = false;
      for (;;) {
        const task = await this.tasker.getTask(taskId);
        const step = task.steps.find((s) => s.name === stepName);
        if (step && wanted.includes(step.state)) return step;
        if (SETTLED_TASK_STATES.includes(task.state)) {
          // Read once more: the task may have settled between this read and the step's last move.
          if (settledOnce) throw new Error(KIT_STEP_NEVER_REACHED(taskId, task.state, stepName, wanted, step));
          settledOnce = true;
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(KIT_STEP_WAIT_TIMEOUT(taskId, stepName, wanted, timeoutMs, step));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 25));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      bus.offAny(listener);
    }
  }

  /** The tasks started by this task's steps with `ctx.startChild`, oldest first. */
  async childTasks(parentTaskId: string): Promise<TaskView[]> {
    const children: TaskView[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.tasker.listTasks({ limit: 500, ...(cursor ? { cursor } : {}) });
      children.push(...page.items.filter((t) => t.parentTaskId === parentTaskId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return children.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Each step's results by name. */
  static results(detail: TaskDetail): Record<string, unknown> {
    return Object.fromEntries(detail.steps.map((s) => [s.name, s.results]));
  }

  /** Closes the app, drops its schema, and stops the embedded Postgres when no other app uses it. */
  async close(): Promise<void> {
    this.faults.restore();
    await this.app.close();
    await this.cleanup();
  }

  private handler(type: TaskTypeRef) {
    const namespace = type.namespace ?? DEFAULT_NAMESPACE;
    const handlers = this.app.get(TaskerInternals).handlers();
    const candidates = handlers.filter((h) => h.namespace === namespace && h.name === type.name && (!type.version || h.version === type.version));
    if (candidates.length === 0) throw new HandlerNotFoundError(namespace, type.name, type.version, handlers.map((h) => `${h.namespace}/${h.name}`));
    return candidates.sort((a, b) => compareVersions(b.version, a.version))[0];
  }
}

const describeStep = (step: StepView | undefined) =>
  step ? `it is ${step.state} (${step.readiness.reason}${step.lastError ? `; last error ${step.lastError.code ?? step.lastError.name}: ${step.lastError.message}` : ''})` : 'it does not exist (yet)';
const KIT_STEP_WAIT_TIMEOUT = (taskId: string, stepName: string, wanted: readonly string[], timeoutMs: number, step: StepView | undefined) =>
  `waitForStep: step "${stepName}" of task ${taskId} was not ${wanted.join(' or ')} within ${timeoutMs} ms; ${describeStep(step)}`;
const KIT_STEP_NEVER_REACHED = (taskId: string, taskState: string, stepName: string, wanted: readonly string[], step: StepView | undefined) =>
  `waitForStep: task ${taskId} is ${taskState} and its step "${stepName}" never became ${wanted.join(' or ')}; ${describeStep(step)}`;

/** Boots a Nest testing app with Tasker on a throwaway schema in one call. */
export async function createTaskerTestingApp(options: TaskerTestingOptions = {}): Promise<TaskerTestingApp> {
  const { retryDelays = 'skip', ...t } = options.tasker ?? {};
  if (retryDelays !== 'real' && retryDelays !== 'skip') throw new TaskerConfigError(KIT_RETRY_DELAYS_INVALID(retryDelays));
  const db = await acquireDatabase(options.databaseUrl);
  const schema = t.schema ?? uniqueTestSchema();
  const taskerOptions: TaskerModuleOptions = {
    logging: false,
    ...t,
    databaseUrl: db.url,
    schema,
    worker: { pollIntervalMs: 50, sweepIntervalMs: 200, leaseMs: 5_000, shutdownTimeoutMs: 1_000, ...(t.worker ?? {}) },
  };
  const cleanup = async () => {
    if (!t.schema) await dropSchema(db.url, schema).catch(() => undefined);
    await db.release();
  };
  try {
    let builder = Test.createTestingModule({
      imports: [EventEmitterModule.forRoot(), ScheduleModule.forRoot(), TaskerModule.forRoot(taskerOptions), ...(options.imports ?? [])],
      providers: options.providers ?? [],
    });
    // The kit's own switch, not a TaskerModule option: it replaces the engine's `real` with `skip`.
    builder.overrideProvider(TASKER_RETRY_DELAYS).useValue(retryDelays);
    if (options.configure) builder = options.configure(builder);
    const moduleRef = await builder.compile();
    const app = await moduleRef.init();
    return new TaskerTestingApp(app, app.get(TaskerService), schema, cleanup, db.url);
  } catch (e) {
    await cleanup();
    throw e;
  }
}
