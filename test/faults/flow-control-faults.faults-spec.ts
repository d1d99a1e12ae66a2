/**
 * Fault runs with flow-control limits (SPEC §9.2, §9.3): the fault workload with step concurrency
 * limits (per key, nested key, no key), rate limits (two step types sharing a per-merchant bucket,
 * one bucket without a key) and task concurrency limits, run by worker processes that are killed
 * (kill -9) or whose database backends are killed mid-statement. The run's checker proves nothing
 * was lost or duplicated; the limits checker (support/limits-workload.ts) adds that, in the recorded
 * history, no limit was ever exceeded.
 */
import { Client } from 'pg';
import { waitFor } from '../support/wait';
import { Fleet } from './support/fleet';
import { FaultPostgres } from './support/fault-postgres';
import { checkLimits, limitsContext, limitsWorkload } from './support/limits-workload';
import { expectCleanRun, faultRun, Nemesis } from './support/run';

describe('fault runs: flow-control limits', () => {
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
  const pick = (n: Nemesis) => n.fleet.labels[Math.floor(n.random() * n.fleet.labels.length)];
  /** Attempts of limited steps in progress under a worker's lease right now: a kill then lands on held places. */
  const holdingPlaces = async (schema: string, owner: string) =>
    (
      await sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".workflow_steps w JOIN "${schema}".tasks t ON t.id = w.task_id
          WHERE w.state = 'in_progress' AND w.lease_owner = $1
            AND ((t.name = 'linear' AND w.name IN ('step_2', 'step_3')) OR (t.name = 'tree' AND w.name IN ('leaf_d', 'leaf_g'))
                 OR t.name IN ('order_processing', 'mixed_dag'))`,
        [owner],
      )
    )[0].n;

  it('kill -9 of workers holding places, restarted: nothing lost or duplicated, no limit ever exceeded', async () => {
    const kills = 12;
    const { report } = await faultRun({
      name: 'limits-kill-9',
      baseUrl: pg.url(),
      workers: 4,
      tasks: 300,
      waves: 20,
      seed: 91,
      fleet: { leaseMs: 2_000, concurrency: 6 },
      workload: { maxStepMs: 60, ...limitsWorkload() },
      context: limitsContext,
      extraCheck: checkLimits,
      nemesis: async (n) => {
        for (let i = 0; i < kills; i++) {
          await n.progress(20);
          // A worker holding places of a limited step or task, if one does right now; any worker otherwise.
          let label = pick(n);
          for (const l of n.fleet.labels) {
            if ((await holdingPlaces(n.schema, n.fleet.workers.get(l)!.owner)) > 0) {
              label = l;
              break;
            }
          }
          await n.fleet.signal(label, 'SIGKILL');
          n.fault(`kill-9: ${label}`);
          await n.sleep(n.random() * 1_000); // restarted a random while later
          await n.fleet.spawn(label);
        }
      },
      settleTimeoutMs: 180_000,
    });
    expect(report.faults).toHaveLength(kills);
    expectCleanRun(report);
    expect(report.leaseExpiries).toBeGreaterThan(0);
  });

  it("pg_terminate_backend of the workers' backends in the middle of Tasker's transactions: nothing lost or duplicated, no limit ever exceeded", async () => {
    const target = 120;
    const { report } = await faultRun({
      name: 'limits-terminate-backend',
      baseUrl: pg.url(),
      workers: 3,
      tasks: 300,
      waves: 20,
      seed: 92,
      fleet: { leaseMs: 3_000, concurrency: 6 },
      workload: { maxStepMs: 40, ...limitsWorkload() },
      context: limitsContext,
      extraCheck: checkLimits,
      nemesis: async (n) => {
        let killed = 0;
        // The load goes on until the target is reached: there is always a transaction to interrupt.
        while (killed < target && !n.stopped) {
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
      settleTimeoutMs: 180_000,
    });
    expect(report.faults.length).toBeGreaterThanOrEqual(target);
    expectCleanRun(report);
  });

  it('a paused worker (SIGSTOP) whose leases lapse while it holds places: the places free at the lapse, its late results are fenced, no limit exceeded', async () => {
    const pauses = 4;
    const owned = async (schema: string, owner: string) =>
      (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".workflow_steps WHERE state = 'in_progress' AND lease_owner = $1`, [owner]))[0].n;
    const { report } = await faultRun({
      name: 'limits-pause',
      baseUrl: pg.url(),
      workers: 3,
      tasks: 180,
      waves: 12,
      seed: 93,
      fleet: { leaseMs: 1_000, concurrency: 6 },
      workload: { maxStepMs: 40, slowEvery: 4, slowStepMs: 600, ...limitsWorkload() },
      context: limitsContext,
      extraCheck: checkLimits,
      nemesis: async (n) => {
        for (let i = 0; i < pauses; i++) {
          await n.progress(20);
          let label: string | undefined;
          for (const l of n.fleet.labels) {
            if ((await holdingPlaces(n.schema, n.fleet.workers.get(l)!.owner)) > 0) {
              label = l;
              break;
            }
          }
          label ??= pick(n);
          const w = n.fleet.workers.get(label)!;
          await n.fleet.signal(label, 'SIGSTOP');
          n.fault(`pause: ${label}`);
          // The others' sweepers find its leases lapsed and take the steps (and the places) over.
          await waitFor(`the leases of paused ${label} to be taken over`, async () => (await owned(n.schema, w.owner)) === 0, { timeoutMs: 30_000 });
          await n.fleet.signal(label, 'SIGCONT');
        }
      },
      settleTimeoutMs: 180_000,
    });
    expect(report.faults).toHaveLength(pauses);
    expectCleanRun(report);
  });
});
