/**
 * Retention under load: what purging a million finished tasks costs the workers. The finished tasks
 * are inserted straight in SQL (shaped like the engine's: the task, its step, both audit trails);
 * then a plain-job drain is timed without a purge and with `purgeTasks` running meanwhile.
 */
import type { Client } from 'pg';
import { truncateWork, waitUntil } from '../support/database';
import { summarize } from '../support/stats';
import { spawnWorkers } from '../support/workers';
import { BenchContext, sized, Workload } from './context';
import { backlog } from './throughput';

const FINISHED = 1_000_000;
const JOBS = 10_000;
const CHUNK = 100_000;

/** Inserts `n` complete single-step `job` tasks that finished two days ago, with their steps and transitions. */
async function seedFinished(pg: Client, n: number): Promise<void> {
  const { rows } = await pg.query(
    `SELECT t.id AS task, s.id AS step FROM tasker.named_tasks t JOIN tasker.named_steps s ON s.named_task_id = t.id WHERE t.name = 'job'`,
  );
  const [{ task, step }] = rows;
  for (let done = 0; done < n; done += CHUNK) {
    await pg.query(
      `WITH t AS (
         INSERT INTO tasker.tasks (named_task_id, namespace, name, version, state, steps_total, steps_done, created_at, updated_at, completed_at)
         SELECT $1, 'bench', 'job', '1', 'complete', 1, 1, at - interval '5 ms', at, at
           FROM (SELECT now() - interval '2 days' + i * interval '1 ms' AS at FROM generate_series($3::int, $3::int + $4 - 1) i) x
         RETURNING id, created_at, completed_at
       ), s AS (
         INSERT INTO tasker.workflow_steps (task_id, named_task_id, named_step_id, name, position, state, attempts, retry_limit, retryable,
                                            backoff, results, started_at, completed_at, created_at, updated_at)
         SELECT id, $1, $2, 'run', 0, 'complete', 1, 3, true, '{"baseMs":1000,"maxMs":300000,"jitter":0.2}', 'null',
                created_at, completed_at, created_at, completed_at
           FROM t
         RETURNING id, task_id, started_at, completed_at
       ), tt AS (
         INSERT INTO tasker.task_transitions (task_id, from_state, to_state, created_at)
         SELECT t.id, x.f, x.t, t.created_at FROM t CROSS JOIN (VALUES (NULL, 'pending'), ('pending', 'in_progress'), ('in_progress', 'complete')) x(f, t)
       )
       INSERT INTO tasker.workflow_step_transitions (task_id, step_id, step_name, from_state, to_state, attempt, duration_ms, created_at)
       SELECT s.task_id, s.id, 'run', x.f, x.t, x.a, x.d, s.completed_at
         FROM s CROSS JOIN (VALUES ('pending', 'in_progress', 1, NULL::int), ('in_progress', 'complete', 1, 3)) x(f, t, a, d)`,
      [task, step, done, Math.min(CHUNK, n - done)],
    );
  }
  await pg.query('VACUUM ANALYZE');
  // The inserts' writes out of the way, so they do not fall on the first timed drain.
  await pg.query('CHECKPOINT');
}

/** Creates `jobs` plain jobs, drains them with one worker process (concurrency 50); `during` starts with the worker. */
async function drainJobs(ctx: BenchContext, jobs: number, during?: () => void): Promise<number> {
  await backlog(ctx, 'job', jobs);
  const [worker] = await spawnWorkers(1, { types: 'job', concurrency: 50, databaseUrl: ctx.databaseUrl });
  try {
    const began = performance.now();
    during?.();
    worker.send({ type: 'go' });
    const ended = await waitUntil(ctx.pg, "SELECT NOT EXISTS (SELECT 1 FROM tasker.tasks WHERE state IN ('pending', 'in_progress'))");
    return jobs / ((ended - began) / 1000);
  } finally {
    await worker.stop();
  }
}

export const purgeWorkload: Workload = {
  suites: ['ops'],
  name: 'purge',
  async run(ctx) {
    const finished = sized(ctx, FINISHED);
    const jobs = sized(ctx, JOBS);
    const without: number[] = [];
    const withPurge: number[] = [];
    const ratios: number[] = [];
    const purgeRates: number[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      await truncateWork(ctx.pg);
      ctx.log(`purge run ${i + 1}: adding ${finished.toLocaleString('en-US')} finished tasks…`);
      const seeded = performance.now();
      await seedFinished(ctx.pg, finished);
      ctx.log(`purge run ${i + 1}: added in ${((performance.now() - seeded) / 1000).toFixed(0)} s`);

      const a1 = await drainJobs(ctx, jobs);
      // Only the seeded tasks are old enough: the jobs drained just now stay.
      const cutoff = new Date(Date.now() - 86_400_000);
      let purge: Promise<{ count: number }> | undefined;
      let purgeStarted = 0;
      const b = await drainJobs(ctx, jobs, () => {
        purgeStarted = performance.now();
        purge = ctx.control.tasker.purgeTasks({ finishedBefore: cutoff });
      });
      const drainEnded = performance.now();
      const { rows } = await ctx.pg.query('SELECT count(*)::int AS n FROM tasker.tasks WHERE completed_at < $1', [cutoff]);
      const { count } = await purge!;
      const purgeSeconds = (performance.now() - purgeStarted) / 1000;
      if (count !== finished) throw new Error(`purge: deleted ${count} of ${finished} finished tasks`);
      const left = rows[0].n as number;
      if (left === 0) ctx.log(`purge run ${i + 1}: the purge ended before the drain: the ratio understates its cost`);
      // Without a purge again, once it is over: the machine's drift falls on both sides.
      await ctx.pg.query('VACUUM ANALYZE');
      await ctx.pg.query('CHECKPOINT');
      const a2 = await drainJobs(ctx, jobs);
      const a = (a1 + a2) / 2;
      without.push(a);
      withPurge.push(b);
      ratios.push(b / a);
      purgeRates.push(count / purgeSeconds);
      ctx.log(
        `purge run ${i + 1}: ${Math.round(a1)} and ${Math.round(a2)} jobs/s without (before and after), ${Math.round(b)} jobs/s while purging ` +
          `(${(b / a).toFixed(2)}× their mean); ${(finished - left).toLocaleString('en-US')} tasks purged during the ${((drainEnded - purgeStarted) / 1000).toFixed(1)} s drain, ` +
          `all ${count.toLocaleString('en-US')} in ${purgeSeconds.toFixed(0)} s`,
      );
    }
    const note = `${jobs} single-step tasks, 1 worker process (concurrency 50), ${finished.toLocaleString('en-US')} finished tasks in the tables`;
    return [
      summarize('purge-jobs-without', 'jobs/s', 'higher', without, undefined, `${note}; mean of a drain before the purge and one after it`),
      summarize('purge-jobs-during', 'jobs/s', 'higher', withPurge, undefined, `${note}, purgeTasks deleting them meanwhile (batches of 500)`),
      summarize('purge-jobs-ratio', '× without', 'higher', ratios, 0.8, 'purge-jobs-during / purge-jobs-without, run by run'),
      summarize('purge-rate', 'tasks/s', 'higher', purgeRates, undefined, 'finished tasks purgeTasks deleted per second (with their step and trails), alongside the drain'),
    ];
  },
};
