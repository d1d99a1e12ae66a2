import { Logger } from '@nestjs/common';
import { DatabaseUnavailableError, Step, StepContext, TaskHandler } from 'nestjs-tasker';
import { Client } from 'pg';
import { FaultPostgres } from '../faults/support/fault-postgres';
import { startApp, TestApp } from '../support/tasker-app';

@TaskHandler({ name: 'nap', namespace: 'restart', version: '1.0.0' })
class NapWorkflow {
  @Step()
  async nap(ctx: StepContext<{ ms: number }>) {
    await new Promise((r) => setTimeout(r, ctx.task.context.ms));
    return 'rested';
  }
}

/**
 * A server of its own (initdb of a private cluster on a free port, a few seconds), restarted in
 * immediate mode while tasks run: callers of TaskerService see the tasks finish, never a raw driver
 * error, and the background jobs say once that the database is away and once that it is back.
 */
describe('a database restart (immediate) while tasks run', () => {
  let pg: FaultPostgres;
  let app: TestApp;
  /** Tasker's warnings and errors, in the order they were logged. */
  const logged: string[] = [];
  const error = jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => void logged.push(String(m)));
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation((m: unknown) => void logged.push(String(m)));

  beforeAll(async () => {
    pg = await FaultPostgres.start();
    app = await startApp('tasker', [NapWorkflow], {
      databaseUrl: pg.url('restart-test'),
      migrationsRun: true,
      worker: { leaseMs: 3_000, sweepIntervalMs: 50, concurrency: 40 },
    });
  }, 60_000);
  afterAll(async () => {
    error.mockRestore();
    warn.mockRestore();
    await app?.close();
    await pg?.destroy();
  });

  it('waitForTask waits through it within its timeout; every task completes; the lease sweep logs the outage once', async () => {
    const tasks = await app.tasker.createTasks(Array.from({ length: 40 }, () => ({ name: 'nap', namespace: 'restart', context: { ms: 300 } })));
    await pg.stop('immediate');
    await pg.startAgain();
    const done = await Promise.all(tasks.map((t) => app.tasker.waitForTask(t.id, { timeoutMs: 60_000 })));
    expect(done.map((d) => d.state)).toEqual(tasks.map(() => 'complete'));

    // Each outage of the sweep is one line when it starts and one when it ends, never a line per tick.
    const sweep = logged
      .filter((m) => m.startsWith('Lease sweep'))
      .map((m) => (m.startsWith('Lease sweep works again') ? 'back' : 'failed'));
    expect(sweep[0]).toBe('failed');
    for (let i = 1; i < sweep.length; i++) expect([sweep[i - 1], sweep[i]]).not.toEqual([sweep[i], sweep[i]]);
    expect(logged.filter((m) => m.includes('was discarded'))).toEqual([]);
  });

  it('while the server is down: waitForTask gives up at its timeout with DatabaseUnavailableError, and writes fail with it (no raw driver error)', async () => {
    const task = await app.tasker.createTask({ name: 'nap', namespace: 'restart', context: { ms: 60_000 } });
    await pg.stop('fast');
    try {
      const waited = app.tasker.waitForTask(task.id, { timeoutMs: 1_000 });
      await expect(waited).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(waited).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE', message: expect.stringContaining('state is unknown') });
      await expect(app.tasker.cancelTask(task.id)).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(app.tasker.createTask({ name: 'nap', namespace: 'restart', context: { ms: 1 } })).rejects.toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      await pg.startAgain();
    }
    const c = new Client({ connectionString: pg.url() });
    await c.connect();
    await c.query('SELECT 1');
    await c.end();
    await app.tasker.cancelTask(task.id);
  });
});
