import { EventEmitterModule } from '@nestjs/event-emitter';
import { INestApplicationContext } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TaskerModule, TaskerService } from 'nestjs-tasker';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TcpProxy } from '../faults/support/tcp-proxy';
import { databaseUrl, dropSchema, uniqueSchema, withClient } from '../support/database';
import { testOptions } from '../support/tasker-app';
import { waitFor } from '../support/wait';
import { LinearWorkflow } from '../fixtures/linear.workflow';

/**
 * Tasker with the app's own DataSource (`dataSourceName`): the app's pg pool is guarded like
 * Tasker's own. A new connection whose "ready" and a fatal error (its backend terminated) are read
 * in one go emits 'error' while no listener of pg-pool's is attached: unguarded, that crashes the
 * process. The proxy holds the server's answers back so that both arrive together.
 */
describe("the app's own pool (dataSourceName)", () => {
  const schema = uniqueSchema('app_pool');
  const appName = `app_guard_${randomBytes(4).toString('hex')}`;
  let proxy: TcpProxy;
  let app: INestApplicationContext;
  let ds: DataSource;

  beforeAll(async () => {
    const url = new URL(databaseUrl());
    proxy = await TcpProxy.start(Number(url.port || 5432));
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const { databaseUrl: _unused, ...options } = testOptions(schema, { worker: { enabled: false } });
    const moduleRef = await Test.createTestingModule({
      imports: [
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        TypeOrmModule.forRoot({ type: 'postgres', url: url.toString(), extra: { max: 3, application_name: appName } }),
        TaskerModule.forRoot({ ...options, dataSourceName: 'default', migrationsRun: true }),
      ],
      providers: [LinearWorkflow],
    }).compile();
    app = await moduleRef.init();
    ds = app.get(DataSource);
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.stop();
    await dropSchema(schema);
  });

  const terminate = () =>
    withClient(async (c) => (await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [appName])).rowCount);

  it("a new connection's ready and fatal messages read together do not crash the process; the pool recovers", async () => {
    // No connection of the app's pool left open: the next query opens a new one.
    await terminate();
    await waitFor('the pool to drop its dead connections', async () => {
      try {
        await ds.query('SELECT 1');
      } catch {
        return false;
      }
      return (ds.driver as unknown as { master: { totalCount: number } }).master.totalCount <= 1 || undefined;
    });
    await terminate();
    await waitFor('the pool to be empty', () => (ds.driver as unknown as { master: { totalCount: number } }).master.totalCount === 0 || undefined);

    proxy.holdAnswers(1_500);
    const query = ds.query('SELECT 1').then(
      () => 'answered',
      (e: Error) => e.message,
    );
    // Its backend exists (the server said "ready", held back): terminated, its fatal message is held behind the ready.
    await waitFor('the new backend', async () => ((await terminate()) ?? 0) > 0 || undefined, { intervalMs: 10 });
    const outcome = await query;
    expect(typeof outcome).toBe('string');

    // The process is alive and both the app and Tasker use the pool again.
    await waitFor('the pool to answer again', async () => (await ds.query('SELECT 1 AS one'))[0].one === 1);
    const tasker = app.get(TaskerService);
    const task = await tasker.createTask({ name: 'linear', namespace: 'scenarios', context: { x: 1 } });
    expect((await tasker.getTask(task.id)).id).toBe(task.id);
  });
});
