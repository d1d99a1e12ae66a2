/**
 * The dynamic workflows of SPEC §8: a map step over 10,000 items drained by one worker process,
 * and how long a signal (or a child task's completion) takes to reach the steps that wait for it.
 */
import { EventEmitter2 } from '@nestjs/event-emitter';
import { TaskerEvents } from '../../libs/tasker/src';
import { benchOptions, BenchApp, startBenchApp } from '../support/app';
import { truncateWork, waitUntil } from '../support/database';
import { percentile, Result, summarize } from '../support/stats';
import { spawnWorkers, WorkerHandle } from '../support/workers';
import { childHold, childParent, latencyProbe, NS, signalWait } from '../workflows';
import { BenchContext, sized, Workload } from './context';

const SETTLED = "('complete', 'error', 'cancelled', 'resolved_manually')";
/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes of one machine. */
const wallNow = () => performance.timeOrigin + performance.now();

/**
 * `map-10000`: one task `list → each (map over n items) → join` on one worker process (concurrency
 * 50, as the jobs and DAG workloads), from createTask to the task complete, seen by polling its row
 * every 5 ms. The run fails unless join saw the n results in item order. `map_join` takes the items
 * from list's results (SPEC §8.2's shape: every instance also receives them); `map_range` has list
 * return only the count and the map function make the items.
 */
async function mapOnce(ctx: BenchContext, name: 'map_join' | 'map_range', n: number): Promise<number> {
  const began = performance.now();
  const task = await ctx.control.tasker.createTask({ namespace: NS, name, version: '1', context: { n } });
  const ended = await waitUntil(ctx.pg, `SELECT state IN ${SETTLED} FROM tasker.tasks WHERE id = $1`, [task.id]);
  const { rows } = await ctx.pg.query(
    "SELECT t.state, s.results FROM tasker.tasks t LEFT JOIN tasker.workflow_steps s ON s.task_id = t.id AND s.name = 'join' WHERE t.id = $1",
    [task.id],
  );
  const { state, results } = rows[0] as { state: string; results: { count: number; firstOutOfOrder: number } | null };
  if (state !== 'complete' || !results || results.count !== n || results.firstOutOfOrder !== -1) {
    throw new Error(
      `map-10000 (${name}): task ${task.id} ended ${state}; join saw ${JSON.stringify(results)}, expected ${n} results in item order (firstOutOfOrder -1)`,
    );
  }
  return ended - began;
}

export const mapWorkload: Workload = {
  suites: ['dynamic', 'peers'],
  name: 'map-10000',
  async run(ctx) {
    const n = sized(ctx, 10_000);
    const warmN = Math.max(1, Math.round(n / 10));
    const results: Result[] = [];
    const [w] = await spawnWorkers(1, { types: 'mapJoin,mapRange', concurrency: 50, databaseUrl: ctx.databaseUrl });
    try {
      w.send({ type: 'go' });
      for (const [row, name] of [['map-10000', 'map_join'], ['map-10000-range', 'map_range']] as const) {
        await truncateWork(ctx.pg);
        // Warm-up as the latency workloads, on a tenth of the items (a full map_join run takes tens of seconds here).
        const until = performance.now() + 500;
        do await mapOnce(ctx, name, warmN);
        while (performance.now() < until);
        const runs: number[] = [];
        for (let i = 0; i < ctx.runs; i++) {
          await truncateWork(ctx.pg);
          runs.push(await mapOnce(ctx, name, n));
          ctx.log(`${row} run ${i + 1}: ${Math.round(runs[i])} ms`);
        }
        results.push(
          row === 'map-10000'
            ? summarize(row, 'ms', 'lower', runs, 2_000, `list → map over ${n} items (list's results) → join, 1 worker process, concurrency 50, creation included`)
            : summarize(row, 'ms', 'lower', runs, undefined, `the same, list returns only the count and map makes the items (instances receive no ${n}-item parent)`),
        );
      }
      return results;
    } finally {
      await w.stop();
    }
  },
};

/** In-process times, by key: latency-probed step starts (`<taskId>`) and events (`<event>:<taskId>:<step>`). */
function recorder(app: BenchApp) {
  const times = new Map<string, number>();
  latencyProbe.started = (taskId) => times.set(taskId, performance.now());
  const on = (event: string) =>
    app.app.get(EventEmitter2).on(event, (p: { taskId: string; stepName?: string }) => times.set(`${event}:${p.taskId}:${p.stepName ?? ''}`, performance.now()));
  on(TaskerEvents.TASK_COMPLETED);
  on(TaskerEvents.STEP_COMPLETED);
  const get = (key: string) => {
    const t = times.get(key);
    if (t === undefined) throw new Error(`signal-latency: no time recorded for ${key}`);
    return t;
  };
  return { get, stop: () => (latencyProbe.started = undefined) };
}

/** Creates n tasks of `name` and waits until n steps named `waitingStep` wait (no other task of the table waits). */
async function waitingTasks(ctx: BenchContext, name: string, n: number, waitingStep: string): Promise<string[]> {
  const tasks = await ctx.control.tasker.createTasks(Array.from({ length: n }, () => ({ namespace: NS, name, version: '1' })));
  await waitUntil(ctx.pg, "SELECT count(*) >= $1 FROM tasker.workflow_steps WHERE name = $2 AND state = 'waiting'", [n, waitingStep]);
  return tasks.map((t) => t.id);
}

interface Samples {
  /** signal called → dependent step's body starts. */
  called: number[];
  /** signal returned → the same (negative when the step started before signal returned). */
  returned: number[];
}

/** One signal at a time to tasks waiting in-process: signal → `after` starts; next one when the task completed. */
async function signalRound(ctx: BenchContext, app: BenchApp, rec: ReturnType<typeof recorder>, n: number): Promise<Samples> {
  const ids = await waitingTasks(ctx, 'signal_wait', n, 'wait');
  const out: Samples = { called: [], returned: [] };
  for (const id of ids) {
    const done = app.completed(id);
    const t0 = performance.now();
    await app.tasker.signal(id, 'go');
    const t1 = performance.now();
    await done;
    const started = rec.get(id);
    out.called.push(started - t0);
    out.returned.push(started - t1);
  }
  return out;
}

/**
 * Child tasks (`child_hold`, waiting for `release`) of waiting parents (`child_parent`): the child
 * is completed by a signal sent here; from the child's tasker.task.completed to the parent's `spawn`
 * tasker.step.completed, both as this process receives them (the first from the signal call, the
 * second from the in-process worker), and to the parent's `after` starting.
 */
async function childRound(ctx: BenchContext, app: BenchApp, rec: ReturnType<typeof recorder>, n: number) {
  const parents = await waitingTasks(ctx, 'child_parent', n, 'hold');
  const { rows } = await ctx.pg.query('SELECT id::text, parent_task_id::text AS parent FROM tasker.tasks WHERE parent_task_id = ANY($1::bigint[])', [parents]);
  const childOf = new Map(rows.map((r: { id: string; parent: string }) => [r.parent, r.id]));
  const toStep: number[] = [];
  const toAfter: number[] = [];
  for (const parent of parents) {
    const child = childOf.get(parent);
    if (!child) throw new Error(`child-latency: parent task ${parent} has no child task`);
    const done = app.completed(parent);
    await app.tasker.signal(child, 'release');
    await done;
    const childDone = rec.get(`${TaskerEvents.TASK_COMPLETED}:${child}:`);
    toStep.push(rec.get(`${TaskerEvents.STEP_COMPLETED}:${parent}:spawn`) - childDone);
    toAfter.push(rec.get(parent) - childDone);
  }
  return { toStep, toAfter };
}

/**
 * How far the worker's clock (performance.timeOrigin + now) is ahead of this process's: of 20
 * IPC round trips, the one that took least, its reply taken to be from half-way (error ≤ half of it).
 */
async function clockOffset(w: WorkerHandle): Promise<{ offset: number; error: number }> {
  let best = { offset: 0, error: Infinity };
  for (let i = 0; i < 20; i++) {
    const reply = w.next('clock');
    const sent = wallNow();
    w.send({ type: 'clock' });
    const { at } = await reply;
    const back = wallNow();
    if ((back - sent) / 2 < best.error) best = { offset: at - (sent + back) / 2, error: (back - sent) / 2 };
  }
  return best;
}

/** The same signal round with the worker in its own process: the wake-up is its NOTIFY. */
async function signalRound2p(ctx: BenchContext, w: WorkerHandle, n: number): Promise<number[]> {
  const clock = await clockOffset(w);
  if (Math.abs(clock.offset) > 0.5) ctx.log(`signal-latency-2p: the worker's clock is ${clock.offset.toFixed(2)} ms ahead (± ${clock.error.toFixed(2)}); corrected`);
  const ids = await waitingTasks(ctx, 'signal_wait', n, 'wait');
  const out: number[] = [];
  for (const id of ids) {
    const started = w.next('started');
    const t0 = wallNow();
    await ctx.control.tasker.signal(id, 'go');
    const m = await started;
    if (m.taskId !== id) throw new Error(`signal-latency-2p: step of task ${m.taskId} started, expected ${id}`);
    out.push(m.at - clock.offset - t0);
    await waitUntil(ctx.pg, `SELECT state IN ${SETTLED} FROM tasker.tasks WHERE id = $1`, [id]);
  }
  return out;
}

/** Untimed rounds of 20 first, for at least half a second of work (at least one), as the latency workloads. */
async function warmUp(round: () => Promise<unknown>): Promise<void> {
  const until = performance.now() + 500;
  do await round();
  while (performance.now() < until);
}

/**
 * `signal-latency` (and `child-latency`, `signal-latency-2p`): ~200 tasks created first, each
 * waiting; then one signal at a time, each timed from TaskerService.signal being called to the
 * dependent step's body starting (performance.now() in the same process, in-process worker of
 * concurrency 50); p50 per run.
 */
export const signalWorkload: Workload = {
  suites: ['dynamic', 'peers'],
  name: 'signal-latency',
  async run(ctx) {
    const n = sized(ctx, 200);
    const called: number[] = [];
    const returned: number[] = [];
    const child: number[] = [];
    const childAfter: number[] = [];
    const app = await startBenchApp(benchOptions(ctx.databaseUrl, { concurrency: 50 }), [signalWait(), childHold(), childParent()]);
    const rec = recorder(app);
    try {
      await truncateWork(ctx.pg);
      await warmUp(() => signalRound(ctx, app, rec, 20));
      for (let i = 0; i < ctx.runs; i++) {
        await truncateWork(ctx.pg);
        const s = await signalRound(ctx, app, rec, n);
        called.push(percentile(s.called, 50));
        returned.push(percentile(s.returned, 50));
        ctx.log(
          `signal-latency run ${i + 1}: p50 ${called[i].toFixed(2)} ms from the call (p90 ${percentile(s.called, 90).toFixed(2)}, max ${Math.max(...s.called).toFixed(2)}), ${returned[i].toFixed(2)} ms from the return`,
        );
      }
      await warmUp(() => childRound(ctx, app, rec, 20));
      for (let i = 0; i < ctx.runs; i++) {
        await truncateWork(ctx.pg);
        const c = await childRound(ctx, app, rec, n);
        child.push(percentile(c.toStep, 50));
        childAfter.push(percentile(c.toAfter, 50));
        ctx.log(`child-latency run ${i + 1}: p50 ${child[i].toFixed(2)} ms to the parent step's completion, ${childAfter[i].toFixed(2)} ms to its dependent's start`);
      }
    } finally {
      rec.stop();
      await app.close();
    }
    const twoP: number[] = [];
    await truncateWork(ctx.pg);
    const [w] = await spawnWorkers(1, { types: 'signalWait', concurrency: 50, databaseUrl: ctx.databaseUrl });
    try {
      w.send({ type: 'go' });
      await warmUp(() => signalRound2p(ctx, w, 20));
      for (let i = 0; i < ctx.runs; i++) {
        await truncateWork(ctx.pg);
        const s = await signalRound2p(ctx, w, n);
        twoP.push(percentile(s, 50));
        ctx.log(`signal-latency-2p run ${i + 1}: p50 ${twoP[i].toFixed(2)} ms (p90 ${percentile(s, 90).toFixed(2)}, max ${Math.max(...s).toFixed(2)})`);
      }
    } finally {
      await w.stop();
    }
    const results: Result[] = [
      summarize('signal-latency', 'ms p50', 'lower', called, 5, `signal() called → dependent step starts, in-process worker (concurrency 50), ${n} signals per run one at a time`),
      summarize('signal-latency-return', 'ms p50', 'lower', returned, undefined, 'the same from signal() returning (it re-reads the task after its commit)'),
      summarize('signal-latency-2p', 'ms p50', 'lower', twoP, 5, 'the same, signal from this process, worker in its own process (woken by NOTIFY)'),
      summarize('child-latency', 'ms p50', 'lower', child, undefined, "child's task.completed → parent's waiting step.completed, in-process worker"),
      summarize('child-latency-after', 'ms p50', 'lower', childAfter, undefined, "child's task.completed → the parent step's dependent starts"),
    ];
    return results;
  },
};
