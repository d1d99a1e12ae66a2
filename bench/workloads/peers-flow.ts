/**
 * The flow-control workloads of the peers bench (bench/peers), on Tasker: the same definitions as
 * the peers' drivers, so the rows sit side by side in one table.
 */
import { truncateWork, waitUntil } from '../support/database';
import { percentile, summarize } from '../support/stats';
import { spawnWorkers } from '../support/workers';
import { sized, Workload } from './context';
import { drain } from './throughput';

const KEYS = 20;
const KEY_LIMIT = 2;
const HOLD_MS = 10;
const RATE = 100;

/**
 * `keyed-2000`: 2,000 single-step tasks over 20 values of `k`, a concurrency limit of 2 per `k`,
 * each step holding its key 10 ms, one worker process (concurrency 50): jobs/s, and the most steps of
 * one key seen running at once (must not exceed 2). Ideal: 20 × 2 slots / 10 ms = 4,000 jobs/s.
 */
export const keyedWorkload: Workload = {
  suites: ['peers', 'flow'],
  name: 'keyed-2000',
  async run(ctx) {
    const size = sized(ctx, 2_000);
    const runs: number[] = [];
    const maxima: number[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      const f = await drain(ctx, {
        name: 'job_keyed',
        types: 'jobKeyed',
        n: size,
        processes: 1,
        concurrency: 50,
        holdMs: HOLD_MS,
        request: (j) => ({ context: { k: `k${j % KEYS}` } }),
      });
      const max = Math.max(...f.flow.map((x) => x.maxPerKey));
      if (max > KEY_LIMIT) throw new Error(`keyed-2000: ${max} steps of one key ran at once, the limit is ${KEY_LIMIT}`);
      runs.push(size / f.seconds);
      maxima.push(max);
      const c = f.counts[0];
      ctx.log(
        `keyed-2000 run ${i + 1}: ${Math.round(size / f.seconds)} jobs/s, at most ${max} of one key at once; ` +
          `${c.claims} claim queries (${c.empty} alone and empty), ${c.notifies} NOTIFYs heard`,
      );
    }
    return [
      summarize('keyed-2000', 'jobs/s', 'higher', runs, undefined, `${size} one-step tasks over ${KEYS} keys, limit ${KEY_LIMIT} per key, steps of ${HOLD_MS} ms`),
      summarize('keyed-2000-max-per-key', 'steps', 'lower', maxima, KEY_LIMIT, 'the most steps of one key seen running at once'),
    ];
  },
};

/**
 * `rated-500`: 500 single-step tasks under a rate limit of 100 starts a second (one bucket), one
 * worker process: the starts after the first second's 100 over the time they took (100 when the
 * limit is held exactly), and the most starts seen in any 1,000 ms (as the steps' bodies saw them).
 */
export const ratedWorkload: Workload = {
  suites: ['peers', 'flow'],
  name: 'rated-500',
  async run(ctx) {
    const size = sized(ctx, 500);
    const rates: number[] = [];
    const excess: number[] = [];
    const excessDb: number[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      const f = await drain(ctx, { name: 'job_rated', types: 'jobRated', n: size, processes: 1, concurrency: 50, starts: true });
      const r = rateFigures(f.flow.flatMap((x) => x.starts.map(([, at]) => at)), RATE);
      // The limit applies to the starts as the database records them (the claim's instant).
      const { rows } = await ctx.pg.query(
        "SELECT extract(epoch FROM s.started_at) * 1000 AS at FROM tasker.workflow_steps s JOIN tasker.tasks t ON t.id = s.task_id WHERE t.name = 'job_rated'",
      );
      const db = rateFigures(rows.map((x) => Number(x.at)), RATE);
      rates.push(r.rate);
      excess.push(r.excess);
      excessDb.push(db.excess);
      ctx.log(
        `rated-500 run ${i + 1}: ${r.rate.toFixed(1)} starts/s (limit ${RATE}), at most ${r.maxPerSecond} step bodies started in 1,000 ms, ` +
          `${db.maxPerSecond} starts recorded (database: ${db.rate.toFixed(1)} starts/s)`,
      );
    }
    return [
      summarize('rated-500', 'starts/s', 'higher', rates, undefined, `${size} one-step tasks, rate limit ${RATE}/s; the limit held exactly = ${RATE}`),
      summarize('rated-500-excess', 'starts', 'lower', excess, 0, `the most starts in any 1,000 ms beyond ${RATE}, as the step bodies saw them`),
      summarize('rated-500-excess-db', 'starts', 'lower', excessDb, 0, `the same from the starts the database recorded (steps' started_at)`),
    ];
  },
};

/** Starts after the first `limit` over the time they took, and the most starts in any 1,000 ms. */
export function rateFigures(starts: number[], limit: number): { rate: number; maxPerSecond: number; excess: number } {
  const s = [...starts].sort((a, b) => a - b);
  let maxPerSecond = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[j] < s[i] - 1000 + 1e-9) j++;
    maxPerSecond = Math.max(maxPerSecond, i - j + 1);
  }
  const span = (s[s.length - 1] - s[0]) / 1000;
  return { rate: span > 0 ? (s.length - Math.min(limit, s.length)) / span : Infinity, maxPerSecond, excess: Math.max(0, maxPerSecond - limit) };
}

/**
 * `cron-lateness`: a schedule of every second (`* * * * * *`) on one worker process: for each tick
 * after the worker started, its step's start (wall clock, in the worker) minus the tick; p50 of
 * `seconds` ticks per run.
 */
export const cronWorkload = (seconds = 15): Workload => ({
  suites: ['peers'],
  name: 'cron-lateness',
  async run(ctx) {
    const runs: number[] = [];
    const p95s: number[] = [];
    await truncateWork(ctx.pg);
    const [w] = await spawnWorkers(1, { types: 'cronTick', concurrency: 50, databaseUrl: ctx.databaseUrl, starts: true });
    try {
      const goAt = Date.now();
      w.send({ type: 'go' });
      for (let i = 0; i < ctx.runs + 1; i++) {
        const from = Date.now();
        await waitUntil(
          ctx.pg,
          `SELECT count(*) >= $2 FROM tasker.tasks t
            WHERE t.name = 'cron_tick' AND t.state = 'complete' AND t.run_at >= to_timestamp($1 / 1000.0)`,
          [from, seconds],
        );
        const r = w.next('report');
        w.send({ type: 'report' });
        const starts = new Map((await r).flow.starts);
        const { rows } = await ctx.pg.query(
          `SELECT t.id::text, extract(epoch FROM t.run_at) * 1000 AS at FROM tasker.tasks t
            WHERE t.name = 'cron_tick' AND t.run_at >= to_timestamp($1 / 1000.0)`,
          [Math.max(from, goAt + 1_000)],
        );
        const late = rows.filter((x) => starts.has(x.id)).map((x) => starts.get(x.id)! - Number(x.at));
        if (i === 0) continue; // warm-up: the worker's first ticks
        runs.push(percentile(late, 50));
        p95s.push(percentile(late, 95));
        ctx.log(`cron-lateness run ${i}: p50 ${percentile(late, 50).toFixed(1)} ms, p95 ${percentile(late, 95).toFixed(1)} ms, max ${Math.max(...late).toFixed(1)} ms over ${late.length} ticks`);
      }
    } finally {
      await w.stop();
    }
    return [
      summarize('cron-lateness', 'ms p50', 'lower', runs, undefined, `schedule '* * * * * *', tick → its step starting, ${seconds} ticks per run, 1 worker process`),
      summarize('cron-lateness-p95', 'ms p95', 'lower', p95s),
    ];
  },
});
