// graphile-worker 0.17, "batched": local queue of 100 jobs, completions and failures batched with a
// 0 ms delay. It has no dependencies between jobs: the chain is each job adding the next one from
// its task; 1 -> W -> 1 fan-in has no primitive (n/a, see run.mjs).
import pg from 'pg';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { Counter, Signals, chunks, now, waitFor } from '../lib/util.mjs';

const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error') console.error(`[graphile-worker] ${message}`);
});

export async function create({ url, concurrency }) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const utils = await makeWorkerUtils({ connectionString: url, logger: quietLogger });
  await utils.migrate(); // boot work kept out of the timed windows
  const noop = new Counter();
  const finished = new Signals();
  let seq = 0;

  const taskList = {
    noop: async () => {
      noop.inc();
    },
    step: async (payload, helpers) => {
      if (payload.i < payload.n) await helpers.addJob('step', { ...payload, i: payload.i + 1 });
      else finished.fire(payload.key);
    },
  };
  const options = {
    connectionString: url,
    concurrency,
    maxPoolSize: Math.max(10, concurrency + 2), // the docs' advice: 10 or concurrency + 2
    noHandleSignals: true,
    logger: quietLogger,
    taskList,
    preset: { worker: { localQueue: { size: 100 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  };
  // A completed job is deleted, so "every job recorded complete" = no job row left.
  const noJobsLeft = async () =>
    (await pool.query('select not exists (select 1 from graphile_worker._private_jobs) as empty')).rows[0].empty;

  let idleRunner;
  return {
    async jobs(n, meter) {
      const target = noop.count + n;
      for (const part of chunks(Array.from({ length: n }, (_, i) => i), 1000)) {
        await utils.addJobs(part.map((i) => ({ identifier: 'noop', payload: { i } })));
      }
      await meter?.start();
      const t0 = now();
      const runner = await run(options);
      await noop.reach(target);
      await waitFor(noJobsLeft, { what: 'graphile-worker jobs to complete' });
      const ms = now() - t0;
      await meter?.stop();
      await runner.stop();
      return ms;
    },
    async chain(steps) {
      idleRunner ??= await run(options);
      const key = `chain-${++seq}`;
      const t0 = now();
      await utils.addJob('step', { key, i: 1, n: steps });
      await finished.wait(key);
      await waitFor(noJobsLeft, { what: 'the last chain step to complete' });
      return now() - t0;
    },
    async fanout() {
      throw new Error('graphile-worker has no dependencies between jobs');
    },
    async close() {
      await idleRunner?.stop();
      await utils.release();
      await pool.end();
    },
  };
}
