import { Client } from 'pg';

let created = 0;

/** A database of the bench's own on the server of `serverUrl`, dropped by `drop()`. */
export async function createBenchDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  // The counter: a workload creates several at once, within the same millisecond.
  const name = `tasker_bench_${process.pid}_${Date.now()}_${++created}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

/**
 * Polls until `sql` (one boolean column) returns true; returns when that was seen. It must be cheap
 * (an EXISTS over an index, not a count of the table: counting 10,000 completed tasks took 2 ms, a
 * share of the server the engine then lacked). `intervalMs` between polls (5 by default);
 * `stopped()` true ends the polling early (resolving NaN), for a poll that lost a race.
 */
export async function waitUntil(
  c: Client,
  sql: string,
  params: unknown[] = [],
  timeoutMs = 600_000,
  opts: { intervalMs?: number; stopped?: () => boolean } = {},
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await c.query(sql, params);
    if (Object.values(rows[0])[0] === true) return performance.now();
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${sql}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 5));
    if (opts.stopped?.()) return Number.NaN;
  }
}

/** Empties the engine's tables between workloads (definitions stay), flow control's slots and rate windows too. */
export async function truncateWork(c: Client): Promise<void> {
  await c.query(
    'TRUNCATE tasker.tasks, tasker.workflow_steps, tasker.workflow_step_edges, tasker.task_transitions, tasker.workflow_step_transitions, tasker.signals, tasker.slots, tasker.rate_windows',
  );
  await c.query('VACUUM ANALYZE');
}
