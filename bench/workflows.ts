/**
 * The bench's task types, all with no-op steps so the engine is what is measured. Wide and long
 * DAGs are generated: their methods are decorated the way `@Step() @DependsOn(...)` would.
 */
import { Type } from '@nestjs/common';
import { DependsOn, Step, StepContext, StepOptions, TaskHandler } from '../libs/tasker/src';

export const NS = 'bench';

/** Observes every step run by this process (the scale-out check counts attempts with it). */
export const stepProbe: { onStep?: (ctx: StepContext) => void | Promise<unknown> } = {};

function run(ctx: StepContext): unknown {
  return stepProbe.onStep ? stepProbe.onStep(ctx) : null;
}

/** A task type whose steps are `steps` (name → parents), in that order, each with `options` besides retryLimit 1. */
function generated(name: string, steps: [string, string[]][], options: Omit<StepOptions, 'name'> = {}): Type {
  const cls = class {};
  Object.defineProperty(cls, 'name', { value: `Bench_${name}` });
  for (const [step, parents] of steps) {
    // A fresh function per step: step metadata is stored on the function object.
    const value = (ctx: StepContext) => run(ctx);
    const descriptor: PropertyDescriptor = { value, writable: true, configurable: true, enumerable: false };
    if (parents.length) DependsOn(...parents)(cls.prototype, step, descriptor);
    Step({ retryLimit: 1, ...options })(cls.prototype, step, descriptor);
    Object.defineProperty(cls.prototype, step, descriptor);
  }
  TaskHandler({ name, namespace: NS, version: '1' })(cls);
  return cls;
}

const pad = (i: number) => `s${String(i).padStart(5, '0')}`;

/** One step: the unit of the independent-jobs workloads. */
export const job = () => generated('job', [['run', []]]);

/** `n` steps in a line. */
export const chain = (n: number) =>
  generated(`chain_${n}`, Array.from({ length: n }, (_, i): [string, string[]] => [pad(i), i ? [pad(i - 1)] : []]));

/** One root, `width` parallel steps after it, one join after all of them. */
export const fanOut = (width: number) =>
  generated(`fan_out_${width}`, [
    ['root', []],
    ...Array.from({ length: width }, (_, i): [string, string[]] => [pad(i), ['root']]),
    ['join', Array.from({ length: width }, (_, i) => pad(i))],
  ]);

/**
 * Ten steps: extract → three transforms (each from extract) → four checks (two parents each) →
 * merge (all checks) → publish. A typical business DAG, four levels wide at most.
 */
const DAG10: [string, string[]][] = [
  ['extract', []],
  ['t1', ['extract']],
  ['t2', ['extract']],
  ['t3', ['extract']],
  ['c1', ['t1', 't2']],
  ['c2', ['t2', 't3']],
  ['c3', ['t1', 't3']],
  ['c4', ['t1', 't2', 't3']],
  ['merge', ['c1', 'c2', 'c3', 'c4']],
  ['publish', ['merge']],
];
export const dag10 = () => generated('dag_10', DAG10);

/**
 * dag_10 with flow control on every step (SPEC §9), keyed by the task context's `k`: each step a
 * concurrency limit of 1 per key (`dag_10_keyed`; a slot per step and value of k), or a rate limit
 * of 10 starts a second per key (`dag_10_rated`; one window per value of k, shared by the task's
 * ten steps).
 */
export const dag10Keyed = () => generated('dag_10_keyed', DAG10, { concurrency: { key: 'k', limit: 1 } });
export const dag10Rated = () => generated('dag_10_rated', DAG10, { rateLimit: { bucket: 'bench', limit: 10, periodMs: 1_000, key: 'k' } });

/**
 * `n` steps in layers of `width`; each step after the first layer depends on 2–3 steps of the
 * layer before (deterministic choice), as the readiness target describes.
 */
export const layered = (n: number, width = 50) =>
  generated(
    `layered_${n}`,
    Array.from({ length: n }, (_, i): [string, string[]] => {
      const layer = Math.floor(i / width);
      if (layer === 0) return [pad(i), []];
      const prev = (layer - 1) * width;
      const k = i % width;
      const parents = [prev + k, prev + ((k + 1) % width)];
      if (i % 2 === 0) parents.push(prev + ((k + 7) % width));
      return [pad(i), parents.map(pad)];
    }),
  );

/** Steps that wait until `release()` is called: the in-flight memory workload. */
export const sleeper = () => generated('sleeper', [['nap', []]]);

/** What join returns: how many results it saw, and the first index whose result is not its item (-1: none). */
function checkOrder(r: unknown): { count: number; firstOutOfOrder: number } {
  if (!Array.isArray(r)) return { count: -1, firstOutOfOrder: -1 };
  return { count: r.length, firstOutOfOrder: r.findIndex((v, i) => v !== i) };
}

/**
 * `list → each (a map step over context.n items) → join`: list returns [0, 1, …, n − 1], each
 * instance returns its item, and join reports whether it saw the n results in item order (the
 * bench fails the run when it did not). As in SPEC §8.2's example, the items are the parent's
 * results, which every instance also receives in `ctx.results`.
 */
export const mapJoin = () => {
  @TaskHandler({ name: 'map_join', namespace: NS, version: '1' })
  class MapJoin {
    @Step({ retryLimit: 1 })
    list(ctx: StepContext<{ n: number }>) {
      return Array.from({ length: ctx.task.context.n }, (_, i) => i);
    }

    @Step({ retryLimit: 1, map: (ctx) => ctx.results['list'] as number[] })
    @DependsOn('list')
    each(ctx: StepContext<{ n: number }, number>) {
      return ctx.item;
    }

    @Step({ retryLimit: 1 })
    @DependsOn('each')
    join(ctx: StepContext) {
      return checkOrder(ctx.results['each']);
    }
  }
  return MapJoin;
};

/** The same, but list returns only the count and the map function makes the items: no instance receives a 10,000-item parent. */
export const mapRange = () => {
  @TaskHandler({ name: 'map_range', namespace: NS, version: '1' })
  class MapRange {
    @Step({ retryLimit: 1 })
    list(ctx: StepContext<{ n: number }>) {
      return { n: ctx.task.context.n };
    }

    @Step({ retryLimit: 1, map: (ctx) => Array.from({ length: (ctx.results['list'] as { n: number }).n }, (_, i) => i) })
    @DependsOn('list')
    each(ctx: StepContext<{ n: number }, number>) {
      return ctx.item;
    }

    @Step({ retryLimit: 1 })
    @DependsOn('each')
    join(ctx: StepContext) {
      return checkOrder(ctx.results['each']);
    }
  }
  return MapRange;
};

/** When a step that measures latency starts (inside its body, in this process). */
export const latencyProbe: { started?: (taskId: string, step: string) => void } = {};

/** `wait` (waits for the signal `go`) → `after`, whose start the signal-latency workload times. */
export const signalWait = () => {
  @TaskHandler({ name: 'signal_wait', namespace: NS, version: '1' })
  class SignalWait {
    @Step({ retryLimit: 1 })
    wait(ctx: StepContext) {
      return ctx.waitForSignal('go');
    }

    @Step({ retryLimit: 1 })
    @DependsOn('wait')
    after(ctx: StepContext) {
      latencyProbe.started?.(ctx.task.id, 'after');
      return null;
    }
  }
  return SignalWait;
};

/** A child task whose one step waits for the signal `release`: the child completes when it comes. */
export const childHold = () => {
  @TaskHandler({ name: 'child_hold', namespace: NS, version: '1' })
  class ChildHold {
    @Step({ retryLimit: 1 })
    hold(ctx: StepContext) {
      return ctx.waitForSignal('release');
    }
  }
  return ChildHold;
};

/** `spawn` (starts a `child_hold` task and waits for it) → `after`. */
export const childParent = () => {
  @TaskHandler({ name: 'child_parent', namespace: NS, version: '1' })
  class ChildParent {
    @Step({ retryLimit: 1 })
    spawn(ctx: StepContext) {
      return ctx.startChild({ namespace: NS, name: 'child_hold', version: '1' });
    }

    @Step({ retryLimit: 1 })
    @DependsOn('spawn')
    after(ctx: StepContext) {
      latencyProbe.started?.(ctx.task.id, 'after');
      return null;
    }
  }
  return ChildParent;
};

/**
 * The flow-control workloads the peers bench compares (`keyed-2000`, `rated-500`): one step with a
 * concurrency limit of 2 per context `k`, or a rate limit of 100 starts a second shared by all.
 */
export const jobKeyed = () => generated('job_keyed', [['run', []]], { concurrency: { key: 'k', limit: 2 } });
export const jobRated = () => generated('job_rated', [['run', []]], { rateLimit: { bucket: 'peers', limit: 100, periodMs: 1_000 } });

/** A schedule firing every second (`cron-lateness`: how late each tick's step starts). */
export const cronTick = () => {
  @TaskHandler({ name: 'cron_tick', namespace: NS, version: '1', schedules: [{ cron: '* * * * * *' }] })
  class CronTick {
    @Step({ retryLimit: 1 })
    tick(ctx: StepContext) {
      return run(ctx);
    }
  }
  return CronTick;
};
