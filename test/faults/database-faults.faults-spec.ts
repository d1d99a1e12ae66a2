/**
 * Fault runs on the database side, the server staying up: the workers' backends killed
 * (pg_terminate_backend) in the middle of their statements; statement latency injected with
 * pg_sleep in triggers on Tasker's tables while each worker's pool is far smaller than its
 * concurrency; and the server's connection slots exhausted by another client.
 */
import { Client } from 'pg';
import { Fleet } from './support/fleet';
import { FaultPostgres } from './support/fault-postgres';
import { expectCleanRun, faultRun } from './support/run';

describe('fault runs: database', () => {
  let pg: FaultPostgres;
  beforeAll(async () => {
    pg = await FaultPostgres.start();
  });
  afterAll(async () => {
    Fleet.killStrays(); // the workers of a run that timed out
    await pg?.destroy();
  });

  const sql = async <T>(text: string, params: unknown[] = []): Promise<T[]> => {
    const c = new Client({ connectionString: pg.url('fault-nemesis') });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  };

  /** Makes every change of a step row (claims, outcomes, sweeps) and every step transition take up to `maxMs` inside its transaction. */
  const addLatency = (schema: string, maxMs: number) =>
    sql(`
      CREATE FUNCTION "${schema}".fault_latency() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(random() * ${maxMs / 1000}); RETURN NEW; END $$;
      CREATE TRIGGER fault_latency BEFORE UPDATE ON "${schema}".workflow_steps FOR EACH ROW EXECUTE FUNCTION "${schema}".fault_latency();
      CREATE TRIGGER fault_latency BEFORE INSERT ON "${schema}".workflow_step_transitions FOR EACH ROW EXECUTE FUNCTION "${schema}".fault_latency();`);
  const removeLatency = (schema: string) => sql(`DROP FUNCTION IF EXISTS "${schema}".fault_latency() CASCADE`);

  it('baseline: the same workload without faults (the reference for the runs below)', async () => {
    const { report } = await faultRun({
      name: 'baseline',
      baseUrl: pg.url(),
      workers: 3,
      tasks: 150,
      waves: 10,
      seed: 12,
      fleet: { leaseMs: 3_000 },
      nemesis: async (n) => {
        await n.created;
      },
    });
    expect(report.violations).toEqual([]);
    expect({ tasks: report.tasks, completed: report.completed, lost: report.lost, duplicated: report.duplicated, reexecutions: report.reexecutions }).toEqual({
      tasks: report.created,
      completed: report.created,
      lost: 0,
      duplicated: 0,
      reexecutions: 0,
    });
  });

  it("pg_terminate_backend of the workers' backends in the middle of Tasker's transactions: nothing lost, nothing duplicated", async () => {
    const target = 150;
    let schema = '';
    const { report } = await faultRun({
      name: 'terminate-backend',
      baseUrl: pg.url(),
      workers: 3,
      tasks: 300,
      waves: 20,
      seed: 6,
      fleet: { leaseMs: 3_000 },
      nemesis: async (n) => {
        schema = n.schema;
        // A little latency inside every engine transaction, so that a kill lands inside one.
        await addLatency(n.schema, 10);
        let killed = 0;
        // The load goes on until the target is reached: there is always a transaction to interrupt.
        while (killed < target && !n.stopped) {
          // Backends of the workers in the middle of one of Tasker's statements right now.
          const busy = await sql<{ pid: number; fn: string }>(
            `SELECT pid, substring(query from '(claim_steps|complete_steps|complete_one|fail_step|release_step|renew_leases|expire_leases)') AS fn
               FROM pg_stat_activity
              WHERE application_name LIKE 'fw:%' AND state = 'active' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
                AND query ~ '(claim_steps|complete_steps|complete_one|fail_step|release_step|renew_leases|expire_leases)'`,
          );
          if (busy.length > 0) {
            const victim = busy[Math.floor(n.random() * busy.length)];
            const [r] = await sql<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [victim.pid]);
            if (r.ok) {
              killed++;
              n.fault(`terminate-backend in ${victim.fn}`);
            }
          }
          await n.sleep(5 + n.random() * 45);
        }
      },
      beforeCheck: async () => {
        await removeLatency(schema);
      },
    });
    expect(report.faults.length).toBeGreaterThanOrEqual(target);
    expectCleanRun(report);
  });

  it('a slow database (pg_sleep in triggers) and pools far smaller than the concurrency: slower, nothing lost', async () => {
    let schema = '';
    const { report } = await faultRun({
      name: 'slow-db-small-pool',
      baseUrl: pg.url(),
      workers: 3,
      tasks: 150,
      waves: 10,
      seed: 7,
      fleet: { leaseMs: 3_000, concurrency: 12, poolSize: 2 },
      nemesis: async (n) => {
        schema = n.schema;
        await addLatency(n.schema, 50);
        n.fault('latency 0-50 ms per step update and per step transition');
        n.fault('pool 2 connections for 12 concurrent steps, per worker');
        await n.created;
      },
      beforeCheck: async () => {
        await removeLatency(schema);
      },
      settleTimeoutMs: 240_000,
    });
    expectCleanRun(report);
  });

  it("the server's connection slots exhausted by another client, three times: workers wait and finish everything", async () => {
    const { report } = await faultRun({
      name: 'connection-slots-exhausted',
      baseUrl: pg.url(),
      workers: 3,
      tasks: 150,
      waves: 10,
      seed: 8,
      fleet: { leaseMs: 3_000, poolSize: 4 },
      nemesis: async (n) => {
        for (let round = 0; round < 3; round++) {
          await n.progress(30);
          // The workers' pools lose their connections, then the hog takes every free slot.
          const hog: Client[] = [];
          await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'fw:%'`);
          // Twenty connections at a time: one by one, a loaded machine takes minutes to fill 300 slots.
          for (let full = false; !full; ) {
            const batch = await Promise.all(
              Array.from({ length: 20 }, async () => {
                const c = new Client({ connectionString: pg.url('fault-hog') });
                c.on('error', () => undefined);
                try {
                  await c.connect();
                  return c;
                } catch {
                  return undefined; // "sorry, too many clients already"
                }
              }),
            );
            for (const c of batch) if (c) hog.push(c);
            full = batch.some((c) => !c);
          }
          n.fault(`slots-exhausted: ${hog.length} connections held`);
          await n.sleep(1_500 + n.random() * 1_500);
          await Promise.all(hog.map((c) => c.end().catch(() => undefined)));
        }
      },
    });
    expect(report.faults).toHaveLength(3);
    expectCleanRun(report);
  });
});
