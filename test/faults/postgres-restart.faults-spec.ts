/**
 * Fault run: the Postgres server is restarted under load, in fast and in immediate shutdown mode
 * (the latter without a checkpoint: crash recovery at start), down for a random while each time.
 * The workers are never restarted: they must reconnect by themselves (pool, LISTEN connection)
 * and finish every task, without losing or duplicating a step.
 */
import { waitFor } from '../support/wait';
import { FaultPostgres, ShutdownMode } from './support/fault-postgres';
import { Fleet } from './support/fleet';
import { expectCleanRun, faultRun } from './support/run';

describe('fault run: Postgres restarts', () => {
  let pg: FaultPostgres;
  beforeAll(async () => {
    pg = await FaultPostgres.start();
  });
  afterAll(async () => {
    Fleet.killStrays(); // the workers of a run that timed out
    await pg?.destroy();
  });

  it('finishes every task exactly once across fast and immediate restarts; workers reconnect by themselves', async () => {
    // Down 0.2-2 s each time, and twice longer than the lease (3 s): outcomes that could not be stored in time are retried.
    const restarts: { mode: ShutdownMode; long?: boolean }[] = [
      { mode: 'fast' },
      { mode: 'immediate' },
      { mode: 'fast' },
      { mode: 'immediate', long: true },
      { mode: 'immediate' },
      { mode: 'fast' },
      { mode: 'immediate' },
      { mode: 'fast', long: true },
      { mode: 'immediate' },
      { mode: 'fast' },
    ];
    const { report, fleet } = await faultRun({
      name: 'postgres-restart',
      baseUrl: pg.url(),
      workers: 3,
      tasks: 300,
      waves: 20,
      seed: 1,
      fleet: { leaseMs: 3_000 },
      nemesis: async (n) => {
        for (const { mode, long } of restarts) {
          await n.progress(40);
          await pg.stop(mode);
          n.fault(`${mode}-restart${long ? ' (down 4-5 s)' : ''}: `);
          await n.sleep(long ? 4_000 + n.random() * 1_000 : 200 + n.random() * 1_800);
          await pg.startAgain();
        }
      },
    });
    expect(report.faults).toHaveLength(restarts.length);
    expectCleanRun(report);
    expect(fleet.workers.size).toBe(0); // all stopped gracefully at the end
  });

  it('each worker has its LISTEN connection back after a restart', async () => {
    const { report } = await faultRun({
      name: 'postgres-restart-listen',
      baseUrl: pg.url(),
      workers: 2,
      tasks: 12,
      waves: 2,
      seed: 2,
      nemesis: async (n) => {
        await n.progress(5);
        await pg.stop('immediate');
        n.fault('immediate-restart');
        await n.sleep(1_500);
        await pg.startAgain();
        // Every worker LISTENs again (on a connection of its own, named after the worker).
        for (const label of n.fleet.labels) {
          await waitFor(
            `worker ${label} to LISTEN again`,
            async () => {
              const { Client } = await import('pg');
              const c = new Client({ connectionString: pg.url() });
              await c.connect();
              try {
                const { rows } = await c.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`, [
                  Fleet.appName(label),
                ]);
                return rows.length === 1;
              } finally {
                await c.end();
              }
            },
            { timeoutMs: 30_000, intervalMs: 200 },
          );
        }
      },
    });
    expect(report.violations).toEqual([]);
    expect(report.lost).toBe(0);
  });
});
