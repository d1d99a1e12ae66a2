/**
 * Fault runs on the network between the processes and Postgres, through a TCP proxy: latency on
 * every packet with freezes longer than the lease (renewals arrive late: leases lapse while steps
 * run), and black holes (connections that go silent for good, as when a route disappears).
 */
import { Client } from 'pg';
import { waitFor } from '../support/wait';
import { FaultPostgres } from './support/fault-postgres';
import { Fleet } from './support/fleet';
import { expectCleanRun, faultRun } from './support/run';
import { TcpProxy } from './support/tcp-proxy';

describe('fault runs: network', () => {
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
  const viaProxy = () => `postgres://postgres:postgres@127.0.0.1:${proxy.port}/postgres`;

  it('latency on every packet and freezes longer than the lease: slower, nothing lost, late results fenced', async () => {
    const { report } = await faultRun({
      name: 'network-latency-freezes',
      baseUrl: viaProxy(),
      workers: 3,
      tasks: 200,
      waves: 12,
      seed: 9,
      fleet: { leaseMs: 1_500 },
      nemesis: async (n) => {
        proxy.maxDelayMs = 15;
        n.fault('latency: 0-15 ms per packet');
        for (let i = 0; i < 6; i++) {
          await n.progress(30);
          const ms = 1_000 + Math.floor(n.random() * 2_000);
          proxy.freeze(ms);
          n.fault(`freeze: ${ms} ms`);
        }
      },
      beforeCheck: async () => {
        proxy.maxDelayMs = 0;
      },
    });
    expectCleanRun(report);
  });

  it('black holes: every open connection goes silent for good, three times; workers carry on over new connections', async () => {
    const { report } = await faultRun({
      name: 'network-blackhole',
      baseUrl: viaProxy(),
      workers: 3,
      tasks: 150,
      waves: 10,
      seed: 10,
      // Statements that get no answer within 3 s are taken for dead (the default is 60 s).
      fleet: { leaseMs: 2_000, statementTimeoutMs: 3_000 },
      nemesis: async (n) => {
        for (let i = 0; i < 3; i++) {
          await n.progress(40);
          const at = new Date();
          n.fault(`blackhole: ${proxy.blackhole()} connections`);
          // Each worker notices that its LISTEN connection went silent and listens on a new one.
          for (const label of n.fleet.labels) {
            await waitFor(`worker ${label} to LISTEN on a new connection`, async () => {
              const c = new Client({ connectionString: pg.url() });
              await c.connect();
              try {
                const { rows } = await c.query(
                  `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %' AND backend_start > $2`,
                  [Fleet.appName(label), at],
                );
                return rows.length > 0;
              } finally {
                await c.end();
              }
            }, { timeoutMs: 60_000, intervalMs: 100 }); // a loaded machine's worker needs a while to notice the silence
          }
        }
      },
      settleTimeoutMs: 90_000,
    });
    expectCleanRun(report);
  });

  it('answers lost after the server committed (claims and outcomes): claims are given back, outcomes are fenced, nothing lost or doubled; every event published once', async () => {
    const { report } = await faultRun({
      name: 'network-lost-answers',
      checkEvents: true,
      baseUrl: viaProxy(),
      workers: 3,
      tasks: 150,
      waves: 10,
      seed: 11,
      fleet: { leaseMs: 3_000, statementTimeoutMs: 1_500 },
      nemesis: async (n) => {
        for (let hits = 0; hits < 12 && !n.stopped; ) {
          await n.progress(10);
          // An outcome is stored by complete_steps (a batch) or complete_one (a single success).
          const what = hits % 2 ? 'complete_steps or complete_one' : 'claim_steps';
          if (await proxy.swallowAnswers(hits % 2 ? /complete_(step|one)/ : /claim_steps/, 1, 5_000)) {
            hits++;
            n.fault(`lost answer of ${what}`);
          }
        }
      },
    });
    expect(report.faults).toHaveLength(12);
    expectCleanRun(report);
  });

  it("answers held back while the workers' backends are killed: a new connection's ready and fatal messages arrive together; no worker crashes", async () => {
    const sql = async (text: string) => {
      const c = new Client({ connectionString: pg.url('fault-nemesis') });
      await c.connect();
      try {
        return (await c.query(text)).rows;
      } finally {
        await c.end();
      }
    };
    const { report } = await faultRun({
      name: 'network-ready-then-fatal',
      baseUrl: viaProxy(),
      workers: 3,
      tasks: 120,
      waves: 8,
      seed: 14,
      fleet: { leaseMs: 3_000, statementTimeoutMs: 3_000 },
      nemesis: async (n) => {
        for (let i = 0; i < 8; i++) {
          await n.progress(10);
          proxy.holdAnswers(1_000);
          let killed = 0;
          // Connections opened to replace the killed ones get their "ready" held back, then are killed too.
          for (let k = 0; k < 4; k++) {
            killed += (await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'fw:%'`)).length;
            await n.sleep(200);
          }
          n.fault(`held answers and killed backends: ${killed}`);
        }
      },
    });
    expectCleanRun(report);
  });
});
