/**
 * The fault workload: the reference shapes of SCENARIOS.md as task types of the `faults`
 * namespace, whose every step records its execution in a side table (task, step, attempt,
 * worker, what it saw of its parents, start and end, all on the database's clock) before it
 * returns `{ v, attempt, by }`. The checker (checker.ts) reads that history back.
 *
 * Handlers are built from a table of shapes, not written out, so the checker can recompute
 * every expected value from the same table.
 */
import { Inject, Injectable, OnApplicationShutdown, Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DependsOn, Step, StepContext, TaskHandler } from 'nestjs-tasker';
import { Pool } from 'pg';
import { TaskerWorker } from '../../../libs/tasker/src/orchestration/tasker.worker';

export const WORKLOAD_NAMESPACE = 'faults';

type Values = Record<string, any>;
interface StepShape {
  name: string;
  deps: string[];
  /** The step's work: a pure function of the task's x and its parents' values. */
  fn: (x: number, p: Values) => unknown;
  timeoutMs?: number;
}
export interface Shape {
  name: string;
  steps: StepShape[];
}

const s = (name: string, deps: string[], fn: StepShape['fn'], timeoutMs?: number): StepShape => ({ name, deps, fn, timeoutMs });

/** SCENARIOS.md, with x from the task context (6 gives the table's figures). */
export const SHAPES: Shape[] = [
  {
    name: 'linear',
    steps: [
      s('step_1', [], (x) => x * x),
      s('step_2', ['step_1'], (_, p) => p.step_1 + 10),
      s('step_3', ['step_2'], (_, p) => p.step_2 * 3),
      s('step_4', ['step_3'], (_, p) => p.step_3 / 2),
    ],
  },
  {
    name: 'diamond',
    steps: [
      s('start', [], (x) => x * x),
      s('branch_b', ['start'], (_, p) => p.start + 25),
      s('branch_c', ['start'], (_, p) => p.start * 2),
      s('end', ['branch_b', 'branch_c'], (_, p) => (p.branch_b + p.branch_c) / 2),
    ],
  },
  {
    name: 'tree',
    steps: [
      s('root', [], (x) => x + 1),
      s('left', ['root'], (_, p) => p.root * 2),
      s('right', ['root'], (_, p) => p.root * 3),
      s('leaf_d', ['left'], (_, p) => p.left + 1),
      s('leaf_e', ['left'], (_, p) => p.left - 1),
      s('leaf_f', ['right'], (_, p) => p.right + 2),
      s('leaf_g', ['right'], (_, p) => p.right - 2),
      s('final', ['leaf_d', 'leaf_e', 'leaf_f', 'leaf_g'], (_, p) => p.leaf_d * p.leaf_e + p.leaf_f * p.leaf_g),
    ],
  },
  {
    name: 'mixed_dag',
    steps: [
      s('init', [], (x) => x * x),
      s('left', ['init'], (_, p) => p.init + 1),
      s('right', ['init'], (_, p) => p.init * 2),
      s('validate', ['left', 'right'], (_, p) => p.left + p.right),
      s('transform', ['left'], (_, p) => p.left * 3),
      s('analyze', ['right'], (_, p) => p.right - 5),
      s('finalize', ['validate', 'transform', 'analyze'], (_, p) => p.validate + p.transform + p.analyze),
    ],
  },
  {
    name: 'order_processing',
    steps: [
      s('validate_payment', [], (x) => ({ paymentId: `pay_${x}`, cents: x * 100 })),
      s('update_inventory', ['validate_payment'], (x, p) => ({ reservationId: `res_${x}`, paymentId: p.validate_payment.paymentId })),
      s('send_confirmation', ['update_inventory'], (x, p) => ({ confirmation: `conf_${x}`, reservationId: p.update_inventory.reservationId })),
    ],
  },
  {
    // Redundant transitive dependencies, and timeouts on every step.
    name: 'order_fulfillment',
    steps: [
      s('validate_order', [], (x) => ({ total: x * 3 }), 10_000),
      s('reserve_inventory', ['validate_order'], (x) => ({ reserved: x }), 10_000),
      s('process_payment', ['reserve_inventory', 'validate_order'], (_, p) => ({ charged: p.validate_order.total, qty: p.reserve_inventory.reserved }), 10_000),
      s(
        'ship_order',
        ['validate_order', 'reserve_inventory', 'process_payment'],
        (x, p) => ({ tracking: `trk_${x}`, charged: p.process_payment.charged, qty: p.reserve_inventory.reserved }),
        10_000,
      ),
    ],
  },
];

export const shapeByName = (name: string): Shape => {
  const shape = SHAPES.find((x) => x.name === name);
  if (!shape) throw new Error(`no workload shape ${name}`);
  return shape;
};

/** Every step's value for a task of `shape` with context x, computed here without Tasker. */
export function evaluate(shape: Shape, x: number): Values {
  const out: Values = {};
  for (const st of shape.steps) out[st.name] = st.fn(x, Object.fromEntries(st.deps.map((d) => [d, out[d]])));
  return out;
}

/** What every workload step returns and stores: its value, and which attempt of which worker produced it. */
export interface StepResult {
  v: unknown;
  attempt: number;
  by: string;
}

/** How the workload steps behave in one run (the same in every worker process of the run). */
export interface WorkloadOptions {
  /** The database holding the side table (its own pool, apart from Tasker's). */
  databaseUrl: string;
  schema: string;
  /** Each step works for a random time up to this long (honouring its signal), widening every race. */
  maxStepMs: number;
  /** Of every this many steps, one works `slowStepMs` instead (0: none). */
  slowEvery?: number;
  slowStepMs?: number;
  retryLimit?: number;
  /**
   * Extra `@Step` options by `<shape>.<step>` and extra `@TaskHandler` options by shape (flow-control
   * limits, for instance); JSON, as they travel to the worker processes in the environment.
   */
  stepOptions?: Record<string, Record<string, unknown>>;
  taskOptions?: Record<string, Record<string, unknown>>;
}

export const WORKLOAD_OPTIONS = Symbol('WORKLOAD_OPTIONS');

export const executionsTableSql = (schema: string) => `
CREATE TABLE IF NOT EXISTS "${schema}".fault_executions (
  id          bigserial PRIMARY KEY,
  task_id     bigint NOT NULL,
  step        text NOT NULL,
  attempt     int NOT NULL,
  worker      text NOT NULL,
  pid         int NOT NULL,
  seen        jsonb NOT NULL,
  result      jsonb,
  started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  ended_at    timestamptz
)`;

/**
 * Writes the side table. Its writes go through their own pool: during a database fault they fail
 * like any step's own database work would, the attempt fails, and Tasker retries it.
 */
@Injectable()
export class ExecutionRecorder implements OnApplicationShutdown {
  private pool?: Pool;

  constructor(
    @Inject(WORKLOAD_OPTIONS) private readonly opts: WorkloadOptions,
    // Not injected: TaskerModule keeps its worker to itself; this test reaches into it on purpose.
    private readonly moduleRef: ModuleRef,
  ) {}

  private db(): Pool {
    if (!this.pool) {
      this.pool = new Pool({ connectionString: this.opts.databaseUrl, max: 4, application_name: 'fault-recorder', connectionTimeoutMillis: 5_000 });
      this.pool.on('error', () => undefined); // a broken idle connection is dropped; the next query opens another
      // As in Tasker's own pool (data-source.factory.ts): a new client's "ready" and a fatal error read together must not crash the worker.
      this.pool.on('connect', (client) => client.on('error', () => undefined));
    }
    return this.pool;
  }

  /** A statement that fails after 5 s instead of hanging on a silent connection (which is then dropped). */
  private async query<T>(sql: string, params: unknown[]): Promise<T[]> {
    const client = await this.db().connect();
    // A checked-out client has no 'error' listener of the pool's: the error of the destroyed socket is reported by the query.
    const ignore = () => undefined;
    client.on('error', ignore);
    const timer = setTimeout(() => (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy(), 5_000);
    try {
      const { rows } = await client.query(sql, params);
      client.release();
      return rows as T[];
    } catch (e) {
      client.release(e as Error);
      throw e;
    } finally {
      clearTimeout(timer);
      client.off('error', ignore);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async run(ctx: StepContext<{ x: number }>, st: StepShape): Promise<StepResult> {
    const by = this.moduleRef.get(TaskerWorker, { strict: false }).owner;
    const t = `"${this.opts.schema}".fault_executions`;
    const rows = await this.query<{ id: string }>(
      `INSERT INTO ${t} (task_id, step, attempt, worker, pid, seen) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [ctx.task.id, ctx.step.name, ctx.step.attempt, by, process.pid, JSON.stringify(ctx.results)],
    );
    const slow = this.opts.slowEvery && Math.random() * this.opts.slowEvery < 1;
    await work(slow ? (this.opts.slowStepMs ?? 0) : Math.random() * this.opts.maxStepMs, ctx.signal);
    const parents = Object.fromEntries(st.deps.map((d) => [d, (ctx.results[d] as StepResult).v]));
    const result: StepResult = { v: st.fn(ctx.task.context.x, parents), attempt: ctx.step.attempt, by };
    await this.query(`UPDATE ${t} SET ended_at = clock_timestamp(), result = $2 WHERE id = $1`, [rows[0].id, JSON.stringify(result)]);
    return result;
  }
}

/** Waits `ms`, or rejects as soon as the signal aborts (a step that honours its signal). */
function work(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A @TaskHandler class for one shape, built with the decorators applied by hand. */
function handlerFor(shape: Shape, retryLimit: number, opts: WorkloadOptions): new (recorder: ExecutionRecorder) => object {
  class Handler {
    constructor(readonly recorder: ExecutionRecorder) {}
  }
  Object.defineProperty(Handler, 'name', { value: `Faults_${shape.name}` });
  for (const st of shape.steps) {
    const method = function (this: Handler, ctx: StepContext<{ x: number }>) {
      return this.recorder.run(ctx, st);
    };
    const descriptor: PropertyDescriptor = { value: method, writable: true, configurable: true };
    Object.defineProperty(Handler.prototype, st.name, descriptor);
    Step({
      name: st.name,
      retryLimit,
      timeoutMs: st.timeoutMs,
      backoff: { baseMs: 50, maxMs: 1_000, jitter: 0.5 },
      ...opts.stepOptions?.[`${shape.name}.${st.name}`],
    })(Handler.prototype, st.name, descriptor);
    if (st.deps.length) DependsOn(...st.deps)(Handler.prototype, st.name, descriptor);
  }
  Reflect.defineMetadata('design:paramtypes', [ExecutionRecorder], Handler);
  TaskHandler({ name: shape.name, namespace: WORKLOAD_NAMESPACE, version: '1.0.0', ...opts.taskOptions?.[shape.name] })(Handler);
  return Handler;
}

/** The workload's handlers and what they need, for TaskerModule's host module. */
export function workloadProviders(opts: WorkloadOptions): Provider[] {
  const retryLimit = opts.retryLimit ?? 25;
  return [{ provide: WORKLOAD_OPTIONS, useValue: opts }, ExecutionRecorder, ...SHAPES.map((sh) => handlerFor(sh, retryLimit, opts))];
}
