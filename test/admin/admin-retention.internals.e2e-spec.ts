// Internals: tasks are made old by moving their completed_at back in SQL, and the tables are read directly to check nothing of a deleted task is left.
import { TaskValidationError } from 'nestjs-tasker';
import { OPS_WORKFLOWS } from '../fixtures/operations.workflows';
import { AdminApp, startAdminApp } from '../support/admin-app';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { waitFor } from '../support/wait';

const DAY = 86_400_000;
const checkout = { namespace: 'ops', name: 'checkout', version: '1.0.0' };

/** Retention: the sweep, purgeTasks, what they delete and keep, the metric, and workers meanwhile. */
describe('retention', () => {
  const schema = uniqueSchema('retain');
  let a: AdminApp;
  const q = (sql: string, params: unknown[] = []) => withClient(async (c) => (await c.query(sql, params)).rows);
  const age = (ids: string[], days: number) =>
    q(`UPDATE "${schema}".tasks SET completed_at = now() - $2 * interval '1 day' WHERE id = ANY ($1::bigint[])`, [ids, days]);
  const exists = async (ids: string[]) => (await q(`SELECT id::text FROM "${schema}".tasks WHERE id = ANY ($1::bigint[]) ORDER BY id`, [ids])).map((r) => r.id as string);
  /** Rows of every table that hangs off a task, for these tasks. */
  const leftovers = async (ids: string[]) => {
    const [r] = await q(
      `SELECT (SELECT count(*) FROM "${schema}".workflow_steps WHERE task_id = ANY ($1::bigint[]))::int AS steps,
              (SELECT count(*) FROM "${schema}".workflow_step_edges WHERE task_id = ANY ($1::bigint[]))::int AS edges,
              (SELECT count(*) FROM "${schema}".workflow_step_transitions WHERE task_id = ANY ($1::bigint[]))::int AS step_trail,
              (SELECT count(*) FROM "${schema}".task_transitions WHERE task_id = ANY ($1::bigint[]))::int AS task_trail,
              (SELECT count(*) FROM "${schema}".signals WHERE task_id = ANY ($1::bigint[]))::int AS signals`,
      [ids],
    );
    return r;
  };
  const purgedMetric = async (state: string) => {
    const text = (await a.get('/tasker/metrics')).text;
    const m = new RegExp(`^tasker_tasks_purged_total\\{state="${state}"\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  async function run(n: number, context: Record<string, unknown> = {}): Promise<string[]> {
    const ids = (await a.tasker.createTasks(Array.from({ length: n }, () => ({ ...checkout, context })))).map((v) => v.id);
    for (const id of ids) await a.tasker.waitForTask(id);
    return ids;
  }

  beforeAll(async () => {
    // Kept a day; the sweep looks every 100 ms, 2 tasks per transaction.
    a = await startAdminApp(schema, OPS_WORKFLOWS, { tasker: { retention: { finishedAfterMs: DAY, intervalMs: 100, batchSize: 2 } } });
  });
  // Each test starts without finished tasks.
  beforeEach(() => a.tasker.purgeTasks({ finishedBefore: new Date(Date.now() + 60_000) }));
  afterAll(async () => {
    await a?.close();
    await dropSchema(schema);
  });

  it('the sweep deletes finished tasks older than the cutoff with everything that hangs off them; keeps recent ones and tasks in error', async () => {
    const oldComplete = await run(5);
    const recentComplete = await run(2);
    const oldError = await run(2, { fail: { step: 'ship', message: 'no courier' } });
    // Cancelled before they ran, each with a signal kept for it.
    const oldCancelled = (await a.tasker.createTasks([1, 2].map(() => ({ ...checkout, context: {}, runAt: new Date(Date.now() + DAY) })))).map((v) => v.id);
    for (const id of oldCancelled) await a.tasker.signal(id, 'approved', { by: 'x' });
    expect(await a.tasker.cancelTasks({ ids: oldCancelled })).toEqual({ count: 2 });
    const gone = [...oldComplete, ...oldCancelled];
    const before = await leftovers(gone);
    expect(before).toMatchObject({ steps: 14, edges: 7, signals: 2 });
    expect(before.step_trail).toBeGreaterThan(0);
    expect(before.task_trail).toBeGreaterThan(0);
    const metric = { complete: await purgedMetric('complete'), cancelled: await purgedMetric('cancelled') };

    await q(`UPDATE "${schema}".tasks SET updated_at = now() - interval '3 days' WHERE id = ANY ($1::bigint[])`, [oldError]);
    await age([...gone, ...oldError], 2);
    await age(recentComplete, 0.5);
    await waitFor('the old finished tasks to be deleted', async () => (await exists(gone)).length === 0);

    expect(await leftovers(gone)).toEqual({ steps: 0, edges: 0, step_trail: 0, task_trail: 0, signals: 0 });
    expect(await exists([...recentComplete, ...oldError])).toEqual([...recentComplete, ...oldError]);
    expect((await a.tasker.getTask(oldError[0])).steps.map((s) => s.state)).toEqual(['complete', 'error']);
    expect(await purgedMetric('complete')).toBe(metric.complete + 5);
    expect(await purgedMetric('cancelled')).toBe(metric.cancelled + 2);
    expect(await purgedMetric('error')).toBe(0);
    await a.tasker.cancelTasks({ ids: oldError });
  });

  it('a cancelled task whose attempt is still running (in another process) is kept until the attempt ends', async () => {
    const [id] = (await a.tasker.createTasks([{ ...checkout, context: {}, runAt: new Date(Date.now() + DAY) }])).map((v) => v.id);
    await a.tasker.cancelTask(id);
    // As a worker elsewhere sees it: its attempt of `charge` has not returned yet.
    await q(`UPDATE "${schema}".workflow_steps SET state = 'in_progress' WHERE task_id = $1 AND name = 'charge'`, [id]);
    const [marker] = await run(1);
    await age([id], 3);
    await age([marker], 2);
    // The sweep takes the oldest first: once the younger marker is gone, it has passed over the task.
    await waitFor('the marker to be deleted', async () => (await exists([marker])).length === 0);
    expect(await exists([id])).toEqual([id]);
    await q(`UPDATE "${schema}".workflow_steps SET state = 'cancelled' WHERE task_id = $1 AND name = 'charge'`, [id]);
    await waitFor('the task to be deleted once its attempt ended', async () => (await exists([id])).length === 0);
  });

  it('purgeTasks deletes on demand, by state; refuses tasks in error and bad dates', async () => {
    const complete = await run(3);
    const cancelled = (await a.tasker.createTasks([1, 2, 3].map(() => ({ ...checkout, context: {}, runAt: new Date(Date.now() + DAY) })))).map((v) => v.id);
    await a.tasker.cancelTasks({ ids: cancelled });
    const metric = await purgedMetric('cancelled');
    expect(await a.tasker.purgeTasks({ finishedBefore: new Date(Date.now() + 1000), states: ['cancelled'] })).toEqual({ count: 3 });
    expect(await exists([...complete, ...cancelled])).toEqual(complete);
    expect(await purgedMetric('cancelled')).toBe(metric + 3);
    expect(await a.tasker.purgeTasks({ finishedBefore: new Date(Date.now() - DAY / 2) })).toEqual({ count: 0 });
    expect(await a.tasker.purgeTasks({ finishedBefore: new Date(Date.now() + 1000) })).toEqual({ count: 3 });
    expect(await exists(complete)).toEqual([]);

    const refused = async (o: unknown) => {
      const e = await a.tasker.purgeTasks(o as never).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TaskValidationError);
      return (e as TaskValidationError).errors.map((x) => x.field);
    };
    expect(await refused({ finishedBefore: new Date(), states: ['error'] })).toEqual(['states']);
    expect(await refused({ finishedBefore: new Date(), states: [] })).toEqual(['states']);
    expect(await refused({ finishedBefore: 'yesterday' })).toEqual(['finishedBefore']);
    expect(await refused({ finishedBefore: new Date('nope') })).toEqual(['finishedBefore']);
    expect(await refused(undefined)).toEqual(['options']);
  });

  it('workers go on completing tasks while a purge holds its batch open and while purgeTasks runs', async () => {
    const old = await run(20);
    let fresh: string[] = [];
    await withClient(async (c) => {
      await c.query('BEGIN');
      const { rows } = await c.query(`SELECT * FROM "${schema}".purge_tasks(now() + interval '1 minute', ARRAY['complete'], 1000)`);
      expect(rows).toEqual([{ state: 'complete', purged: 20 }]);
      // The batch is not committed: its deleted rows stay locked while new work runs and completes.
      fresh = await run(10);
      expect(new Set(await Promise.all(fresh.map(async (id) => (await a.tasker.getTask(id)).state)))).toEqual(new Set(['complete']));
      await c.query('COMMIT');
    });
    expect(await exists(old)).toEqual([]);

    const earlier = await run(40);
    // 2 per batch: 20 transactions, while new tasks run (they finish after the cutoff: kept).
    const purging = a.tasker.purgeTasks({ finishedBefore: new Date() });
    const during = await run(10);
    expect(await purging).toEqual({ count: earlier.length + fresh.length });
    expect(await exists([...earlier, ...fresh])).toEqual([]);
    expect(new Set(await Promise.all(during.map(async (id) => (await a.tasker.getTask(id)).state)))).toEqual(new Set(['complete']));
  });
});
