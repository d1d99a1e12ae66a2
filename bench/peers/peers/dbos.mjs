// DBOS Transact 5: a job = a workflow of one step, enqueued on a DBOS queue; chain = one workflow
// of sequential steps; fan-out = a parent workflow that runs the root step, enqueues W one-step
// child workflows, waits for all of them, then runs a final step.
import pg from 'pg';
import { DBOS, DBOSClient } from '@dbos-inc/dbos-sdk';
import { Counter, KeyTracker, Signals, mapLimit, now, sleep, waitFor } from '../lib/util.mjs';

const APP = 'peers-bench';
const POLL_MS = 50; // queue polling (default 1000 ms) and result polling inside the parent workflow

export async function create({ url, concurrency }) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const done = new Counter();
  const finished = new Signals();
  let seq = 0;
  const noop = async () => {};

  const job = DBOS.registerWorkflow(
    async () => {
      await DBOS.runStep(noop, { name: 'noop' });
      done.inc();
    },
    { name: 'job' },
  );
  const chain = DBOS.registerWorkflow(
    async (key, steps) => {
      for (let i = 1; i <= steps; i++) await DBOS.runStep(noop, { name: `step${i}` });
      finished.fire(key);
    },
    { name: 'chain' },
  );
  const fanout = DBOS.registerWorkflow(
    async (key, width) => {
      await DBOS.runStep(noop, { name: 'root' });
      const handles = [];
      for (let i = 0; i < width; i++) handles.push(await DBOS.startWorkflow(job, { queueName: 'jobs' })());
      await DBOS.waitAll(handles, { pollingIntervalMs: POLL_MS });
      await DBOS.runStep(noop, { name: 'final' });
      finished.fire(key);
    },
    { name: 'fanout' },
  );

  // Concurrency per key: a workflow of one step holding its key for holdMs.
  const keys = new KeyTracker();
  const keyedJob = DBOS.registerWorkflow(
    async (key, holdMs) => {
      await DBOS.runStep(async () => {
        keys.enter(key);
        await sleep(holdMs);
        keys.leave(key);
      }, { name: 'hold' });
      done.inc();
    },
    { name: 'keyed' },
  );
  // Rate limit: a workflow of one step that notes when it started.
  const starts = [];
  const ratedJob = DBOS.registerWorkflow(
    async () => {
      await DBOS.runStep(async () => {
        starts.push(now());
      }, { name: 'noop' });
      done.inc();
    },
    { name: 'rated' },
  );
  // Signal: blocks in recv() until the bench sends 'go', then its next step starts.
  const started = new Map();
  const waiting = new Signals();
  const waiter = DBOS.registerWorkflow(
    async (key) => {
      await DBOS.runStep(async () => waiting.fire(key), { name: 'ready' });
      await DBOS.recv('go', { timeoutSeconds: 600 });
      await DBOS.runStep(async () => {
        started.set(key, now());
        finished.fire(key);
      }, { name: 'after' });
    },
    { name: 'waiter' },
  );
  // Cron: how late each fire starts after its scheduled instant.
  let lateness;
  const tick = DBOS.registerWorkflow(
    async (scheduledDate) => {
      lateness?.push(Date.now() - new Date(scheduledDate).getTime());
    },
    { name: 'tick' },
  );

  DBOS.setConfig({ name: APP, systemDatabaseUrl: url, logLevel: 'error' });
  await DBOS.migrate(url); // the system schema: boot, kept out of the timed windows
  const client = await DBOSClient.create({ systemDatabaseUrl: url, applicationName: APP });
  const queueOptions = { workerConcurrency: concurrency, minPollingIntervalMs: POLL_MS, onConflict: 'always_update' };
  await client.registerQueue('jobs', queueOptions);
  await client.registerQueue('wf', queueOptions);
  // Partitioned by key (a partition limit makes every enqueue name its key); and rate limited.
  const limitedQueue = async (name, extra) => client.registerQueue(name, { ...queueOptions, ...extra });

  const succeeded = async (name) =>
    (await pool.query(`select count(*)::int as n from dbos.workflow_status where name = $1 and status = 'SUCCESS'`, [name])).rows[0].n;
  const isSuccess = async (id) =>
    (await pool.query(`select status from dbos.workflow_status where workflow_uuid = $1`, [id])).rows[0]?.status === 'SUCCESS';

  let launched = false;
  const launch = async () => {
    if (launched) return;
    await DBOS.launch();
    launched = true;
  };
  const shutdown = async () => {
    if (!launched) return;
    await DBOS.shutdown();
    launched = false;
  };
  const runWorkflow = async (wf, key, ...args) => {
    await launch();
    const t0 = now();
    const handle = await DBOS.startWorkflow(wf, { queueName: 'wf' })(key, ...args);
    await finished.wait(key);
    await waitFor(() => isSuccess(handle.workflowID), { what: 'the DBOS workflow to complete' });
    return now() - t0;
  };

  /** Enqueues a backlog, launches the worker and times the drain (the jobs workload's protocol). */
  const drain = async (name, n, enqueue) => {
    await shutdown();
    const target = (await succeeded(name)) + n;
    const reached = done.count + n;
    await mapLimit(Array.from({ length: n }, (_, i) => i), 20, enqueue);
    const booting = now();
    await launch();
    const t0 = done.count > reached - n ? booting : now();
    await done.reach(reached);
    await waitFor(async () => (await succeeded(name)) >= target, { what: `DBOS ${name} workflows to complete` });
    const ms = now() - t0;
    await shutdown();
    return ms;
  };

  return {
    async keyed({ n, keys: keyCount, limit, holdMs }) {
      await limitedQueue('keyed', { partitionConcurrency: limit });
      keys.reset();
      const ms = await drain('keyed', n, (i) =>
        client.enqueue({ queueName: 'keyed', workflowName: 'keyed', queuePartitionKey: `k${i % keyCount}` }, `k${i % keyCount}`, holdMs),
      );
      return { ms, maxPerKey: keys.max };
    },
    async rated({ n, limit }) {
      await limitedQueue('rated', { rateLimit: { limitPerPeriod: limit, periodSec: 1 } });
      starts.length = 0;
      const ms = await drain('rated', n, () => client.enqueue({ queueName: 'rated', workflowName: 'rated' }));
      return { ms, starts: [...starts] };
    },
    async signal(count) {
      await launch();
      const ids = [];
      for (let i = 0; i < count; i++) {
        const key = `sig-${++seq}`;
        const handle = await DBOS.startWorkflow(waiter)(key);
        ids.push({ key, id: handle.workflowID });
      }
      for (const { key } of ids) await waiting.wait(key);
      // The ready step ran; recv() follows it in the same workflow: wait until each is blocked in it.
      await waitFor(
        async () =>
          (await pool.query(`select count(*)::int as n from dbos.operation_outputs where workflow_uuid = any($1) and function_name = 'ready'`, [ids.map((x) => x.id)]))
            .rows[0].n === count,
        { what: 'the DBOS waiters to reach recv' },
      );
      const latencies = [];
      for (const { key, id } of ids) {
        const t0 = now();
        await DBOS.send(id, 'go', 'go');
        await finished.wait(key);
        latencies.push(started.get(key) - t0);
      }
      for (const { id } of ids) await waitFor(() => isSuccess(id), { what: 'the DBOS waiter to complete' });
      return latencies;
    },
    async cron(seconds) {
      await launch();
      lateness = [];
      const scheduleName = `tick-${++seq}`;
      await DBOS.createSchedule({ scheduleName, workflowFn: tick, schedule: '* * * * * *', options: { queueName: 'wf' } });
      await waitFor(async () => lateness.length >= seconds + 1, { intervalMs: 50, timeoutMs: (seconds + 30) * 1000, what: 'DBOS schedule fires' });
      await DBOS.deleteSchedule(scheduleName);
      const out = lateness.slice(1); // the first tick may predate the schedule's creation
      lateness = undefined;
      return out;
    },
    async jobs(n, meter) {
      await shutdown(); // the worker (DBOS.launch) must start after the backlog is in
      const target = (await succeeded('job')) + n;
      const reached = done.count + n;
      await mapLimit(Array.from({ length: n }), 20, () => client.enqueue({ queueName: 'jobs', workflowName: 'job' }));
      // DBOS.launch() boots the executor and starts its queue runner, whose first poll comes one
      // polling interval later: the clock starts when launch() returns, unless a job already
      // finished during it (then the launch is counted in).
      await meter?.start();
      const booting = now();
      await launch();
      const t0 = done.count > reached - n ? booting : now();
      await done.reach(reached);
      await waitFor(async () => (await succeeded('job')) >= target, { what: 'DBOS workflows to complete' });
      const ms = now() - t0;
      await meter?.stop();
      await shutdown();
      return ms;
    },
    chain: (steps) => runWorkflow(chain, `chain-${++seq}`, steps),
    fanout: (width) => runWorkflow(fanout, `fan-${++seq}`, width),
    async close() {
      await shutdown();
      await client.destroy();
      await pool.end();
    },
  };
}
