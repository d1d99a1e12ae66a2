/**
 * Fault runs on the worker processes: kill -9 at random moments (and restart), pauses that let a
 * lease lapse while steps are still running (SIGSTOP … SIGCONT: the late finishers must be
 * fenced), and graceful shutdowns (SIGTERM) under load.
 */
import { Client } from 'pg';
import { waitFor } from '../support/wait';
import { Fleet } from './support/fleet';
import { FaultPostgres } from './support/fault-postgres';
import { expectCleanRun, faultRun, Nemesis } from './support/run';

describe('fault runs: worker processes', () => {
  let pg: FaultPostgres;
  beforeAll(async () => {
    pg = await FaultPostgres.start();
  });
  afterAll(async () => {
    Fleet.killStrays(); // the workers of a run that timed out
    await pg?.destroy();
  });

  const sql = async <T>(text: string, params: unknown[] = []): Promise<T[]> => {
    const c = new Client({ connectionString: pg.url() });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  };
  /** Steps a worker owns right now. */
  const owned = async (schema: string, owner: string) =>
    (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".workflow_steps WHERE state = 'in_progress' AND lease_owner = $1`, [owner]))[0].n;
  const pick = (n: Nemesis) => n.fleet.labels[Math.floor(n.random() * n.fleet.labels.length)];

  it('kill -9 of workers at random moments, restarted, while the others keep working: nothing lost, nothing duplicated', async () => {
    const kills = 16;
    const { report } = await faultRun({
      name: 'kill-9',
      baseUrl: pg.url(),
      workers: 4,
      tasks: 400,
      waves: 24,
      seed: 3,
      fleet: { leaseMs: 2_000, concurrency: 6 },
      workload: { maxStepMs: 60 },
      nemesis: async (n) => {
        for (let i = 0; i < kills; i++) {
          await n.progress(25);
          const label = pick(n);
          await n.fleet.signal(label, 'SIGKILL');
          n.fault(`kill-9: ${label}`);
          await n.sleep(n.random() * 1_000); // restarted a random while later
          await n.fleet.spawn(label);
        }
      },
    });
    expect(report.faults).toHaveLength(kills);
    expectCleanRun(report);
    // The kills landed on running steps: their leases lapsed and other workers took them over.
    expect(report.leaseExpiries).toBeGreaterThan(0);
  });

  it('a paused worker (SIGSTOP) loses its leases while its steps run; when it wakes, its late results are fenced', async () => {
    const pauses = 6;
    const { report } = await faultRun({
      name: 'pause-lease-lapse',
      baseUrl: pg.url(),
      workers: 3,
      tasks: 200,
      waves: 12,
      seed: 4,
      fleet: { leaseMs: 1_000, concurrency: 6 },
      workload: { maxStepMs: 40, slowEvery: 4, slowStepMs: 600 },
      nemesis: async (n) => {
        for (let i = 0; i < pauses; i++) {
          await n.progress(20);
          // A worker with steps in flight.
          const label = await waitFor('a worker running steps', async () => {
            for (const l of n.fleet.labels) if ((await owned(n.schema, n.fleet.workers.get(l)!.owner)) > 0) return l;
            return undefined;
          });
          const w = n.fleet.workers.get(label)!;
          await n.fleet.signal(label, 'SIGSTOP');
          n.fault(`pause: ${label}`);
          // The others' sweepers find its leases lapsed and take the steps over.
          await waitFor(`the leases of paused ${label} to be taken over`, async () => (await owned(n.schema, w.owner)) === 0, { timeoutMs: 30_000 });
          await n.fleet.signal(label, 'SIGCONT');
        }
      },
    });
    expect(report.faults).toHaveLength(pauses);
    expectCleanRun(report);
    expect(report.leaseExpiries).toBeGreaterThanOrEqual(pauses);
  });

  it('SIGTERM under load: graceful; the stopped worker leaves no step owned and is no longer listed', async () => {
    const stops = 6;
    const leftovers: string[] = [];
    const { report } = await faultRun({
      name: 'sigterm',
      baseUrl: pg.url(),
      workers: 3,
      tasks: 200,
      waves: 12,
      seed: 5,
      // Leases far longer than the run between a stop and the check: only the shutdown itself can have freed the steps.
      fleet: { leaseMs: 30_000, concurrency: 6, shutdownTimeoutMs: 300 },
      workload: { maxStepMs: 40, slowEvery: 4, slowStepMs: 1_500 },
      nemesis: async (n) => {
        for (let i = 0; i < stops; i++) {
          await n.progress(20);
          const label = await waitFor('a worker running steps', async () => {
            for (const l of n.fleet.labels) if ((await owned(n.schema, n.fleet.workers.get(l)!.owner)) > 0) return l;
            return undefined;
          });
          const w = n.fleet.workers.get(label)!;
          const exit = await n.fleet.signal(label, 'SIGTERM');
          n.fault(`sigterm: ${label}`);
          if (exit?.code !== 0 || !w.lines.includes('stopped')) leftovers.push(`${label} did not stop cleanly: ${JSON.stringify(exit)}`);
          const still = await owned(n.schema, w.owner);
          if (still > 0) leftovers.push(`${label} left ${still} step(s) in progress`);
          const listed = await sql(`SELECT 1 FROM "${n.schema}".workers WHERE id = $1`, [w.owner]);
          if (listed.length > 0) leftovers.push(`${label} is still in the workers table`);
          await n.fleet.spawn(label);
        }
      },
    });
    expect(leftovers).toEqual([]);
    expect(report.faults).toHaveLength(stops);
    expectCleanRun(report);
    // Slow steps were running at each stop: they were given back (released), not left to expire.
    expect(report.releases).toBeGreaterThan(0);
    expect(report.leaseExpiries).toBe(0);
  });
});
