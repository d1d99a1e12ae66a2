/** End-to-end latency of single workflows on an idle worker, and of creating tasks. */
import { TaskRequest } from '../../libs/tasker/src';
import { benchOptions, BenchApp, startBenchApp } from '../support/app';
import { truncateWork } from '../support/database';
import { percentile, summarize } from '../support/stats';
import { chain, fanOut, NS } from '../workflows';
import { BenchContext, Workload } from './context';

/** An in-process worker (concurrency 50) for the chain and fan-out types, booted once per workload. */
async function withRunner<T>(ctx: BenchContext, fn: (app: BenchApp) => Promise<T>): Promise<T> {
  const app = await startBenchApp(benchOptions(ctx.databaseUrl, { concurrency: 50 }), [chain(20), fanOut(50), fanOut(500)]);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/**
 * Untimed runs first, for at least half a second of work (at least one): JIT, query plans, pool
 * connections. One run left a process whose hand-offs were still getting faster for the next
 * twenty or so (V8 optimizing the worker's code); the peers bench warms up by the same rule.
 */
async function warmUp(app: BenchApp, name: string): Promise<void> {
  const until = performance.now() + 500;
  do await endToEnd(app, name);
  while (performance.now() < until);
}

/** Milliseconds from createTask to the task's tasker.task.completed event. */
async function endToEnd(app: BenchApp, name: string): Promise<number> {
  const began = performance.now();
  const task = await app.tasker.createTask({ namespace: NS, name, version: '1' });
  await app.completed(task.id);
  return performance.now() - began;
}

export const chainWorkload: Workload = {
  suites: ['latency', 'peers'],
  name: 'chain-20',
  run: (ctx) =>
    withRunner(ctx, async (app) => {
      await truncateWork(ctx.pg);
      await warmUp(app, 'chain_20');
      const runs: number[] = [];
      for (let i = 0; i < Math.max(ctx.runs, 5); i++) runs.push((await endToEnd(app, 'chain_20')) / 20);
      return [summarize('chain-20', 'ms/step', 'lower', runs, 1, 'one task of 20 steps in a line, in-process worker, creation included')];
    }),
};

export const fanOutWorkload = (width: number, target?: number): Workload => ({
  suites: ['latency', 'peers'],
  name: `fanout-${width}`,
  run: (ctx) =>
    withRunner(ctx, async (app) => {
      await truncateWork(ctx.pg);
      await warmUp(app, `fan_out_${width}`);
      const runs: number[] = [];
      for (let i = 0; i < Math.max(ctx.runs, 5); i++) runs.push(await endToEnd(app, `fan_out_${width}`));
      return [summarize(`fanout-${width}`, 'ms', 'lower', runs, target, `1 → ${width} → 1, in-process worker, creation included`)];
    }),
});

export const createWorkload: Workload = {
  suites: ['latency'],
  name: 'create',
  async run(ctx: BenchContext) {
    await truncateWork(ctx.pg);
    const one: TaskRequest = { namespace: NS, name: 'dag_10', version: '1' };
    const p50s: number[] = [];
    for (let r = 0; r < ctx.runs; r++) {
      const lat: number[] = [];
      for (let i = 0; i < 20; i++) await ctx.control.tasker.createTask(one); // warm-up
      for (let i = 0; i < 200; i++) {
        const began = performance.now();
        await ctx.control.tasker.createTask(one);
        lat.push(performance.now() - began);
      }
      p50s.push(percentile(lat, 50));
    }
    const bulk: number[] = [];
    for (let r = 0; r < ctx.runs; r++) {
      await truncateWork(ctx.pg);
      const requests = Array.from({ length: 1_000 }, (_, i) => ({ ...one, context: { i } }));
      const began = performance.now();
      await ctx.control.tasker.createTasks(requests);
      bulk.push(performance.now() - began);
    }
    return [
      summarize('create-10', 'ms p50', 'lower', p50s, 2, 'createTask of one ten-step task (p50 of 200 calls per run)'),
      summarize('create-bulk-1000x10', 'ms', 'lower', bulk, 1_000, 'one createTasks call with 1,000 ten-step tasks'),
    ];
  },
};
