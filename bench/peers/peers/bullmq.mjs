// BullMQ 6 on its PostgreSQL backend (withBackend(createPostgresBackend): no Redis involved).
// Independent jobs: queue.addBulk() then one Worker. Chain: a FlowProducer flow nested `steps`
// deep (in BullMQ a parent runs once its children are done, so the leaf is step 1). Fan-out: a
// root job whose processor adds a FlowProducer flow, a final parent with W children (a BullMQ job
// has a single parent, so the W jobs cannot all be children of the root).
import pg from 'pg';
import { createPostgresBackend, withBackend } from 'bullmq';
import { Counter, Signals, chunks, now, waitFor } from '../lib/util.mjs';

const { Queue, Worker, FlowProducer } = withBackend(createPostgresBackend);

export async function create({ url, concurrency }) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // migrate: true installs the bullmq schema on first connect (boot, outside the timed windows)
  const connection = { connectionString: url, migrate: true };
  const jobsQueue = new Queue('jobs', { connection });
  const flowQueue = new Queue('flow', { connection });
  const flows = new FlowProducer({ connection });
  await jobsQueue.waitUntilReady();
  await flowQueue.waitUntilReady();
  await flows.waitUntilReady();

  const done = new Counter();
  const finished = new Signals();
  let seq = 0;

  const completed = async (queue) =>
    (await pool.query(`select count(*)::int as n from bullmq.job where queue = $1 and state = 'completed'`, [queue])).rows[0].n;
  const isCompleted = async (id) =>
    (await pool.query(`select state from bullmq.job where queue = 'flow' and id = $1`, [id])).rows[0]?.state === 'completed';

  let flowWorker;
  const startFlowWorker = async () => {
    if (flowWorker) return;
    flowWorker = new Worker(
      'flow',
      async (job) => {
        if (job.name === 'root') {
          const { key, width } = job.data;
          await flows.add({
            name: 'final',
            queueName: 'flow',
            data: { key, last: true },
            opts: { jobId: `${key}-final` },
            children: Array.from({ length: width }, (_, i) => ({ name: 'mid', queueName: 'flow', data: { key, i } })),
          });
        } else if (job.data.last) {
          finished.fire(job.data.key);
        }
      },
      { connection, concurrency },
    );
    flowWorker.on('error', (e) => console.error('[bullmq worker]', e));
    await flowWorker.waitUntilReady();
  };
  const measure = async (key, enqueue) => {
    await startFlowWorker();
    const t0 = now();
    const lastId = await enqueue();
    await finished.wait(key);
    await waitFor(() => isCompleted(lastId), { what: 'the final BullMQ job to complete' });
    return now() - t0;
  };

  return {
    // Rate limit: the worker's limiter (at most `limit` jobs processed per 1,000 ms).
    async rated({ n, limit }) {
      const queue = new Queue('rated', { connection });
      await queue.waitUntilReady();
      const starts = [];
      for (const part of chunks(Array.from({ length: n }, (_, i) => i), 1000)) {
        await queue.addBulk(part.map((i) => ({ name: 'noop', data: { i } })));
      }
      const all = new Counter();
      const worker = new Worker('rated', async () => {
        starts.push(now());
        all.inc();
      }, { connection, concurrency, autorun: false, limiter: { max: limit, duration: 1000 } });
      worker.on('error', (e) => console.error('[bullmq worker]', e));
      await worker.waitUntilReady();
      const t0 = now();
      const running = worker.run();
      await all.reach(n);
      await waitFor(async () => (await completed('rated')) >= n, { what: 'BullMQ rated jobs to complete' });
      const ms = now() - t0;
      await worker.close();
      await running;
      await queue.close();
      return { ms, starts };
    },
    async jobs(n, meter) {
      const target = (await completed('jobs')) + n;
      const reached = done.count + n;
      for (const part of chunks(Array.from({ length: n }, (_, i) => i), 1000)) {
        await jobsQueue.addBulk(part.map((i) => ({ name: 'noop', data: { i } })));
      }
      const worker = new Worker('jobs', async () => done.inc(), { connection, concurrency, autorun: false });
      worker.on('error', (e) => console.error('[bullmq worker]', e));
      await worker.waitUntilReady();
      await meter?.start();
      const t0 = now();
      const running = worker.run();
      await done.reach(reached);
      await waitFor(async () => (await completed('jobs')) >= target, { what: 'BullMQ jobs to complete' });
      const ms = now() - t0;
      await meter?.stop();
      await worker.close();
      await running;
      return ms;
    },
    chain(steps) {
      const key = `chain-${++seq}`;
      return measure(key, async () => {
        let node = { name: 'step', queueName: 'flow', data: { key, i: 1, last: steps === 1 } };
        for (let i = 2; i <= steps; i++) {
          node = { name: 'step', queueName: 'flow', data: { key, i, last: i === steps }, children: [node] };
        }
        const tree = await flows.add(node);
        return tree.job.id;
      });
    },
    fanout(width) {
      const key = `fan-${++seq}`;
      return measure(key, async () => {
        await flowQueue.add('root', { key, width });
        return `${key}-final`;
      });
    },
    async close() {
      await flowWorker?.close();
      await flows.close();
      await jobsQueue.close();
      await flowQueue.close();
      await pool.end();
    },
  };
}
