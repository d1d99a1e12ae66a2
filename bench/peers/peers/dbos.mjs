// DBOS Transact 5: a job = a workflow of one step, enqueued on a DBOS queue; chain = one workflow
// of sequential steps; fan-out = a parent workflow that runs the root step, enqueues W one-step
// child workflows, waits for all of them, then runs a final step.
import pg from 'pg';
import { DBOS, DBOSClient } from '@dbos-inc/dbos-sdk';
import { Counter, Signals, mapLimit, now, waitFor } from '../lib/util.mjs';

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

  DBOS.setConfig({ name: APP, systemDatabaseUrl: url, logLevel: 'error' });
  await DBOS.migrate(url); // the system schema: boot, kept out of the timed windows
  const client = await DBOSClient.create({ systemDatabaseUrl: url, applicationName: APP });
  const queueOptions = { workerConcurrency: concurrency, minPollingIntervalMs: POLL_MS, onConflict: 'always_update' };
  await client.registerQueue('jobs', queueOptions);
  await client.registerQueue('wf', queueOptions);

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

  return {
    async jobs(n) {
      await shutdown(); // the worker (DBOS.launch) must start after the backlog is in
      const target = (await succeeded('job')) + n;
      const reached = done.count + n;
      await mapLimit(Array.from({ length: n }), 20, () => client.enqueue({ queueName: 'jobs', workflowName: 'job' }));
      // DBOS.launch() boots the executor and starts its queue runner, whose first poll comes one
      // polling interval later: the clock starts when launch() returns, unless a job already
      // finished during it (then the launch is counted in).
      const booting = now();
      await launch();
      const t0 = done.count > reached - n ? booting : now();
      await done.reach(reached);
      await waitFor(async () => (await succeeded('job')) >= target, { what: 'DBOS workflows to complete' });
      const ms = now() - t0;
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
