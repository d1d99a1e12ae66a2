import type { INestApplicationContext, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import type { TaskerEventName, TaskerEventPayload } from '../events/tasker-events';
import { TaskerConfigError } from '../errors/boot.errors';
import { HandlerNotFoundError } from '../errors/service.errors';
import type { RetryDelays, TaskerModuleOptions } from '../interfaces/tasker-options.interface';
import type { TaskDetail, TaskRequest } from '../interfaces/views.interface';
import { compareVersions } from '../registry/definition-builder';
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
    const candidates = this.app.get(TaskerInternals).handlers().filter((h) => h.namespace === namespace && h.name === type.name && (!type.version || h.version === type.version));
    if (candidates.length === 0) throw new HandlerNotFoundError(namespace, type.name, type.version);
    return candidates.sort((a, b) => compareVersions(b.version, a.version))[0];
  }
}

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
