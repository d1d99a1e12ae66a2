/**
 * Fault run: every kind of fault of the other runs, one after another in a random (seeded) order,
 * on one workload: faults that interact (a worker killed while the server restarts, a claim's
 * answer lost by a worker that is then paused...) are where engines break.
 */
import { Client } from 'pg';
import { waitFor } from '../support/wait';
import { Fleet } from './support/fleet';
import { FaultPostgres } from './support/fault-postgres';
import { expectCleanRun, faultRun, Nemesis } from './support/run';
import { TcpProxy } from './support/tcp-proxy';

describe('fault run: mixed faults', () => {
  let pg: FaultPostgres;
  let proxy: TcpProxy;
  beforeAll(async () => {
    pg = await FaultPostgres.start();
    proxy = await TcpProxy.start(pg.port);
  });
  afterAll(async () => {
    Fleet.killStrays(); // the workers of a run that timed out
    await proxy?.stop();
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
  const owned = async (schema: string, owner: string) =>
    (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".workflow_steps WHERE state = 'in_progress' AND lease_owner = $1`, [owner]))[0].n;

  /** One fault of each kind; each leaves the system able to go on (stopped workers are restarted). Null: it could not be injected. */
  const faults: Record<string, (n: Nemesis) => Promise<string | null>> = {
    'kill-9': async (n) => {
      const label = n.fleet.labels[Math.floor(n.random() * n.fleet.labels.length)];
      await n.fleet.signal(label, 'SIGKILL');
      await n.fleet.spawn(label);
      return label;
    },
    pause: async (n) => {
      const label = n.fleet.labels[Math.floor(n.random() * n.fleet.labels.length)];
      const w = n.fleet.workers.get(label)!;
      await n.fleet.signal(label, 'SIGSTOP');
      await waitFor(`the leases of paused ${label} to be taken over`, async () => (await owned(n.schema, w.owner)) === 0, { timeoutMs: 30_000 });
      await n.fleet.signal(label, 'SIGCONT');
      return label;
    },
    sigterm: async (n) => {
      const label = n.fleet.labels[Math.floor(n.random() * n.fleet.labels.length)];
      await n.fleet.signal(label, 'SIGTERM');
      await n.fleet.spawn(label);
      return label;
    },
    'fast-restart': async (n) => {
      await pg.stop('fast');
      await n.sleep(200 + n.random() * 1_500);
      await pg.startAgain();
      return 'server';
    },
    'immediate-restart': async (n) => {
      await pg.stop('immediate');
      await n.sleep(200 + n.random() * 1_500);
      await pg.startAgain();
      return 'server';
    },
    'terminate-backends': async () => {
      const r = await sql<{ ok: boolean }>(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name LIKE 'fw:%'`);
      return `${r.length} backends`;
    },
    freeze: async (n) => {
      const ms = 1_000 + Math.floor(n.random() * 2_000);
      proxy.freeze(ms);
      await n.sleep(ms);
      return `${ms} ms`;
    },
    blackhole: async () => `${proxy.blackhole()} connections`,
    'lost-answer': async (n) => {
      const outcome = n.random() >= 0.5;
      // Only when such a request comes within 5 s: null otherwise.
      const hit = await proxy.swallowAnswers(outcome ? /complete_(step|one)/ : /claim_steps/, 1, 5_000);
      return hit ? (outcome ? 'complete_steps or complete_one' : 'claim_steps') : null;
    },
  };

  it('faults of every kind in a random order on one workload: nothing lost, nothing duplicated', async () => {
    const kinds = Object.keys(faults);
    const rounds = kinds.length * 3; // each kind three times, in a seeded random order
    const { report } = await faultRun({
      name: 'mixed',
      baseUrl: `postgres://postgres:postgres@127.0.0.1:${proxy.port}/postgres`,
      workers: 4,
      tasks: 400,
      waves: 24,
      seed: Number(process.env.FAULT_SEED ?? 13), // FAULT_SEED=<n> draws another order of faults
      fleet: { leaseMs: 2_000, statementTimeoutMs: 3_000, concurrency: 6 },
      workload: { maxStepMs: 40, slowEvery: 6, slowStepMs: 500 },
      nemesis: async (n) => {
        const order = [...kinds, ...kinds, ...kinds];
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(n.random() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        for (const kind of order) {
          // A lost answer needs such a request to come: tried again on more work until it lands.
          for (let what: string | null = null; what === null; ) {
            await n.progress(20);
            what = await faults[kind](n);
            if (what !== null) n.fault(`${kind}: ${what}`);
          }
        }
      },
      settleTimeoutMs: 180_000,
    });
    expect(report.faults).toHaveLength(rounds);
    expectCleanRun(report);
  });
});
