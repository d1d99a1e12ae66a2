// Internals: finds the concurrent createTask waiting on a lock in pg_stat_activity by its statement text (the engine's create_tasks function).
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TaskerEventPayload, TaskerModule, TaskerService, TaskNotFoundError } from 'nestjs-tasker';
import { DataSource } from 'typeorm';
import { databaseUrl, dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, testOptions } from '../support/tasker-app';
import { Latch, waitFor } from '../support/wait';
import { LinearWorkflow } from '../fixtures/linear.workflow';

const LINEAR = { name: 'linear', namespace: 'scenarios' } as const;

interface Subject {
  tasker: TaskerService;
  events: TaskerEventPayload[];
  /** The DataSource whose transactions the business code (and createTask) use. */
  ds: DataSource;
  schema: string;
}

/**
 * SPEC §3 `opts.manager`: the task rows are written in the caller's transaction, so a task exists
 * if and only if the caller's business write committed, and `tasker.task.created` follows the commit.
 */
function transactionContract(title: string, setup: () => Promise<Subject & { teardown: () => Promise<void> }>) {
  describe(title, () => {
    let s: Subject & { teardown: () => Promise<void> };
    const created = (id: string) => s.events.filter((e) => e.event === 'tasker.task.created' && e.taskId === id).length;
    const rows = (table: string, where: string, params: unknown[]) =>
      withClient(async (c) => (await c.query(`SELECT count(*)::int AS n FROM "${s.schema}".${table} WHERE ${where}`, params)).rows[0].n as number);

    beforeAll(async () => {
      s = await setup();
      await s.ds.query(`CREATE TABLE IF NOT EXISTS "${s.schema}".orders (ref text PRIMARY KEY, task_id bigint)`);
    });
    afterAll(async () => {
      await s?.teardown();
    });

    it('rollback: no task, no steps, no business row, no tasker.task.created', async () => {
      let id = '';
      let eventsInside = -1;
      let visibleInside = -1;
      await expect(
        s.ds.transaction(async (m) => {
          id = (await s.tasker.createTask({ ...LINEAR, context: { x: 1 } }, { manager: m })).id;
          await m.query(`INSERT INTO "${s.schema}".orders (ref, task_id) VALUES ('rolled-back', $1)`, [id]);
          eventsInside = created(id);
          visibleInside = await rows('tasks', 'id = $1', [id]);
          throw new Error('the business rule failed');
        }),
      ).rejects.toThrow('the business rule failed');
      expect(id).not.toBe('');
      expect(eventsInside).toBe(0);
      expect(visibleInside).toBe(0); // other connections never saw it
      expect(await rows('tasks', 'id = $1', [id])).toBe(0);
      expect(await rows('workflow_steps', 'task_id = $1', [id])).toBe(0);
      expect(await rows('orders', `ref = 'rolled-back'`, [])).toBe(0);
      await expect(s.tasker.getTask(id)).rejects.toBeInstanceOf(TaskNotFoundError);
      // A barrier: a task created after it has its event delivered, and still none came for the rolled-back one.
      const later = await s.tasker.createTask({ ...LINEAR, context: { x: 2 } });
      await waitFor('the later task to be announced', () => created(later.id) === 1 || undefined);
      expect(created(id)).toBe(0);
    });

    it('commit: the task exists with the business row, and tasker.task.created comes only after the commit', async () => {
      let id = '';
      let eventsInside = -1;
      let visibleInside = -1;
      await s.ds.transaction(async (m) => {
        id = (await s.tasker.createTask({ ...LINEAR, context: { x: 6 } }, { manager: m })).id;
        await m.query(`INSERT INTO "${s.schema}".orders (ref, task_id) VALUES ('committed', $1)`, [id]);
        eventsInside = created(id);
        visibleInside = await rows('tasks', 'id = $1', [id]);
      });
      expect(eventsInside).toBe(0);
      expect(visibleInside).toBe(0);
      await waitFor('tasker.task.created after commit', () => created(id) === 1 || undefined);
      expect(await rows('orders', `ref = 'committed' AND task_id = $1`, [id])).toBe(1);
      const done = await s.tasker.waitForTask(id, { timeoutMs: 20_000 });
      expect(done.state).toBe('complete');
      expect(done.steps.find((x) => x.name === 'step_4')?.results).toBe(69);
      expect(created(id)).toBe(1);
    });

    it('savepoint: a task written in a rolled-back savepoint disappears, the outer transaction’s task stays', async () => {
      let outer = '';
      let inner = '';
      await s.ds.transaction(async (m) => {
        outer = (await s.tasker.createTask({ ...LINEAR, context: { x: 3 } }, { manager: m })).id;
        await expect(
          m.transaction(async (sp) => {
            inner = (await s.tasker.createTask({ ...LINEAR, context: { x: 4 } }, { manager: sp })).id;
            throw new Error('inner part failed');
          }),
        ).rejects.toThrow('inner part failed');
        expect(created(outer) + created(inner)).toBe(0);
      });
      await waitFor('the outer task to be announced', () => created(outer) === 1 || undefined);
      expect(await rows('tasks', 'id = $1', [outer])).toBe(1);
      expect(await rows('tasks', 'id = $1', [inner])).toBe(0);
      expect(created(inner)).toBe(0);
      expect((await s.tasker.waitForTask(outer, { timeoutMs: 20_000 })).state).toBe('complete');
    });

    it.each(['rolls back', 'commits'] as const)(
      'idempotency key held by an open transaction: a concurrent createTask waits, then %s decides',
      async (outcome) => {
        const key = `held-${outcome}`;
        const release = new Latch();
        const held = new Latch<string>();
        const tx = s.ds
          .transaction(async (m) => {
            held.resolve((await s.tasker.createTask({ ...LINEAR, context: { x: 1 }, idempotencyKey: key }, { manager: m })).id);
            await release.promise;
            if (outcome === 'rolls back') throw new Error('rolled back on purpose');
          })
          .catch((e: Error) => e);
        const heldId = await held.promise;
        const concurrent = s.tasker.createTask({ ...LINEAR, context: { x: 2 }, idempotencyKey: key });
        await waitFor('the concurrent createTask to wait for the open transaction', async () => {
          const n = await withClient(async (c) => {
            const { rows } = await c.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0`,
              [`"${s.schema}".create_tasks`],
            );
            return rows[0].n as number;
          });
          return n === 1 || undefined;
        });
        release.resolve();
        await tx;
        const view = await concurrent;
        expect(await rows('tasks', 'idempotency_key = $1', [key])).toBe(1);
        if (outcome === 'commits') {
          expect(view.id).toBe(heldId);
          expect(view.context).toEqual({ x: 1 });
        } else {
          expect(view.id).not.toBe(heldId);
          expect(view.context).toEqual({ x: 2 });
          expect(created(heldId)).toBe(0);
        }
        await waitFor('tasker.task.created of the one task', () => created(view.id) === 1 || undefined);
      },
    );

    it('bulk createTasks with a manager is all or nothing with the caller’s transaction', async () => {
      let ids: string[] = [];
      await expect(
        s.ds.transaction(async (m) => {
          ids = (await s.tasker.createTasks([1, 2, 3].map((x) => ({ ...LINEAR, context: { x } })), { manager: m })).map((v) => v.id);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(ids).toHaveLength(3);
      expect(await rows('tasks', 'id = ANY($1::bigint[])', [ids])).toBe(0);
      expect(ids.map(created)).toEqual([0, 0, 0]);
    });
  });
}

transactionContract('createTask in a transaction of a DataSource of the app’s own', async () => {
  const schema = uniqueSchema('tx');
  const app = await startApp(schema, [LinearWorkflow]);
  const ds = new DataSource({ type: 'postgres', url: databaseUrl() });
  await ds.initialize();
  return {
    tasker: app.tasker,
    events: app.events,
    ds,
    schema,
    teardown: async () => {
      await app.close();
      await ds.destroy();
      await dropSchema(schema);
    },
  };
});

transactionContract('createTask with TaskerModule.forRoot({ dataSourceName: "default" }) on TypeOrmModule’s DataSource', async () => {
  const schema = uniqueSchema('txo');
  const { databaseUrl: _ownUrl, ...options } = testOptions(schema);
  const moduleRef = await Test.createTestingModule({
    imports: [
      EventEmitterModule.forRoot(),
      ScheduleModule.forRoot(),
      TypeOrmModule.forRoot({ type: 'postgres', url: databaseUrl() }),
      TaskerModule.forRoot({ ...options, dataSourceName: 'default' }),
    ],
    providers: [LinearWorkflow],
  }).compile();
  const events: TaskerEventPayload[] = [];
  moduleRef.get(EventEmitter2).onAny((name: string | string[], payload: TaskerEventPayload) => {
    if (typeof name === 'string' && name.startsWith('tasker.')) events.push(payload);
  });
  const app = await moduleRef.init();
  const ds = app.get(DataSource);
  return {
    tasker: app.get(TaskerService),
    events,
    ds,
    schema,
    teardown: async () => {
      await app.close();
      expect(ds.isInitialized).toBe(false); // the app's module closed its own DataSource; Tasker did not fight over it
      await dropSchema(schema);
    },
  };
});
