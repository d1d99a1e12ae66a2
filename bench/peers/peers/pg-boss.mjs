// pg-boss 12 (runs under Node 22, see run.mjs). Independent jobs: a backlog inserted with
// boss.insert(), drained by boss.work(). DAGs: boss.flow() with dependsOn; pg-boss releases a
// dependent job out of band, from its background flow resolver (flowIntervalSeconds, minimum 1 s).
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { Counter, KeyTracker, Signals, chunks, now, sleep, waitFor } from '../lib/util.mjs';

export async function create({ url, concurrency }) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const boss = new PgBoss({
    connectionString: url,
    useListenNotify: true,
    flowIntervalSeconds: 1, // the minimum allowed
    schedule: false, // no cron in these workloads
  });
  boss.on('error', (e) => console.error('[pg-boss]', e));
  await boss.start(); // installs the schema: boot, kept out of the timed windows
  await boss.createQueue('jobs', { notify: true });
  await boss.createQueue('flow', { notify: true });
  await boss.createQueue('keyed', { notify: true });

  const workOptions = {
    localConcurrency: concurrency >= 10 ? 2 : 1,
    batchSize: Math.max(1, concurrency / 2),
    burstWhenBatchFull: true,
    pollingIntervalSeconds: 0.5, // minimum
    notifyPollingIntervalSeconds: 0.5, // minimum; flow releases do not come with a NOTIFY
  };
  const done = new Counter();
  const finished = new Signals();
  let seq = 0;

  const completed = async (name) =>
    (await pool.query(`select count(*)::int as n from pgboss.job where name = $1 and state = 'completed'`, [name])).rows[0].n;
  const isCompleted = async (id) =>
    (await pool.query(`select state from pgboss.job where name = 'flow' and id = $1`, [id])).rows[0]?.state === 'completed';

  let flowWorker = false;
  const startFlowWorker = async () => {
    if (flowWorker) return;
    flowWorker = true;
    await boss.work('flow', workOptions, async (jobs) => {
      await Promise.all(jobs.map(async (job) => {
        if (job.data?.last) finished.fire(job.data.key);
      }));
    });
  };
  const runFlow = async (jobs, key, lastRef) => {
    await startFlowWorker();
    const t0 = now();
    const ids = await boss.flow(jobs);
    await finished.wait(key);
    await waitFor(() => isCompleted(ids[lastRef]), { what: 'the final pg-boss flow job to complete' });
    return now() - t0;
  };

  const keys = new KeyTracker();

  return {
    // Concurrency per key: jobs in groups, work() with groupConcurrency (enforced across nodes,
    // as Tasker's limit is); each job holds its key for holdMs.
    async keyed({ n, keys: keyCount, limit, holdMs }) {
      const target = (await completed('keyed')) + n;
      const reached = done.count + n;
      keys.reset();
      for (const part of chunks(Array.from({ length: n }, (_, i) => i), 1000)) {
        await boss.insert('keyed', part.map((i) => ({ data: { k: `k${i % keyCount}` }, group: { id: `k${i % keyCount}` } })));
      }
      const t0 = now();
      await boss.work('keyed', { ...workOptions, groupConcurrency: limit }, async (jobs) => {
        await Promise.all(jobs.map(async (job) => {
          keys.enter(job.data.k);
          await sleep(holdMs);
          keys.leave(job.data.k);
        }));
        done.inc(jobs.length);
      });
      await done.reach(reached);
      await waitFor(async () => (await completed('keyed')) >= target, { what: 'pg-boss keyed jobs to complete' });
      const ms = now() - t0;
      await boss.offWork('keyed', { wait: true });
      return { ms, maxPerKey: keys.max };
    },
    async jobs(n, meter) {
      const target = (await completed('jobs')) + n;
      const reached = done.count + n;
      for (const part of chunks(Array.from({ length: n }, (_, i) => i), 1000)) {
        await boss.insert('jobs', part.map((i) => ({ data: { i } })));
      }
      await meter?.start();
      const t0 = now();
      await boss.work('jobs', workOptions, async (jobs) => {
        await Promise.all(jobs.map(async () => {}));
        done.inc(jobs.length);
      });
      await done.reach(reached);
      await waitFor(async () => (await completed('jobs')) >= target, { what: 'pg-boss jobs to complete' });
      const ms = now() - t0;
      await meter?.stop();
      await boss.offWork('jobs', { wait: true });
      return ms;
    },
    async chain(steps) {
      const key = `chain-${++seq}`;
      const jobs = Array.from({ length: steps }, (_, i) => ({
        ref: `s${i + 1}`,
        name: 'flow',
        data: { key, last: i === steps - 1 },
        ...(i > 0 ? { dependsOn: [`s${i}`] } : {}),
      }));
      return runFlow(jobs, key, `s${steps}`);
    },
    async fanout(width) {
      const key = `fan-${++seq}`;
      const mids = Array.from({ length: width }, (_, i) => `m${i + 1}`);
      const jobs = [
        { ref: 'root', name: 'flow', data: { key } },
        ...mids.map((ref) => ({ ref, name: 'flow', data: { key }, dependsOn: ['root'] })),
        { ref: 'final', name: 'flow', data: { key, last: true }, dependsOn: mids },
      ];
      return runFlow(jobs, key, 'final');
    },
    async close() {
      await boss.stop({ graceful: false, timeout: 2000 });
      await pool.end();
    },
  };
}
