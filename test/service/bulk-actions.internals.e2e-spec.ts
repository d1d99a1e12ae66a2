// Internals: the batch size of bulk actions is made small, and their statements are counted, so that several batches run.
import { TaskerEvents, TaskValidationError } from 'nestjs-tasker';
import { BulkActions } from '../../libs/tasker/src/orchestration/bulk.actions';
import { OperationsRepository } from '../../libs/tasker/src/persistence/operations.repository';
import { OPS_WORKFLOWS, OpsContext } from '../fixtures/operations.workflows';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';

const BY = { actor: 'ops-bot', reason: 'incident 42' };
const declined = { step: 'charge', message: 'card declined', code: 'CARD_DECLINED' };
const checkout = (version = '1.0.0') => ({ namespace: 'ops', name: 'checkout', version });

/** Failures inbox and bulk retry/cancel through TaskerService, against the engine. */
describe('failures inbox and bulk actions', () => {
  const schema = uniqueSchema('bulk');
  let t: TestApp;
  let act: jest.SpyInstance;

  beforeAll(async () => {
    t = await startApp(schema, OPS_WORKFLOWS);
    t.get(BulkActions).batchSize = 2;
    act = jest.spyOn(t.get(OperationsRepository), 'act');
  });
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
  });

  async function run(type: { namespace: string; name: string; version?: string }, context: OpsContext, n = 1): Promise<string[]> {
    const views = await t.tasker.createTasks(Array.from({ length: n }, () => ({ ...type, context })));
    const ids = views.map((v) => v.id);
    for (const id of ids) await t.tasker.waitForTask(id);
    return ids;
  }
  const delayed = async (n: number) =>
    (await t.tasker.createTasks(Array.from({ length: n }, () => ({ ...checkout(), context: {}, runAt: new Date(Date.now() + 3_600_000) })))).map((v) => v.id);
  const state = async (id: string) => (await t.tasker.getTask(id)).state;
  const eventCount = (event: string, id: string) => t.events.filter((e) => e.event === event && e.taskId === id).length;
  /** The task's own entries to `to` written by BY. */
  const byEntries = async (id: string, to: string) =>
    (await t.tasker.getAuditTrail(id)).filter((e) => !e.stepName && e.to === to && e.actor === BY.actor && e.reason === BY.reason).length;
  /** Every task in error that was retried has failed again (its context still fails it). */
  const settled = (ids: string[]) => waitFor('the retried tasks to fail again', async () => (await Promise.all(ids.map(state))).every((s) => s === 'error'));

  it('listFailures: one group per type, version, step and code; counts, at most 20 ids (newest first), first and last failure', async () => {
    const before = new Date();
    const early = await run(checkout(), { fail: { step: 'charge', message: 'card declined', code: 'INBOX_CODE' } }, 5);
    const mid = new Date();
    const late = await run(checkout(), { fail: { step: 'charge', message: 'card declined again', code: 'INBOX_CODE' } }, 20);
    await run(checkout(), { fail: { step: 'ship', message: 'no courier' } }, 2);
    await run(checkout(), { fail: { step: 'ship', message: 'lost parcel' } }, 1);
    await run({ namespace: 'ops_b', name: 'refund' }, { fail: { step: 'refund', message: 'gone', code: 'INBOX_CODE' } }, 3);
    const after = new Date();

    const groups = await t.tasker.listFailures({ namespace: 'ops', name: 'checkout' });
    const big = groups.find((g) => g.code === 'INBOX_CODE')!;
    expect(big).toMatchObject({ namespace: 'ops', name: 'checkout', version: '1.0.0', stepName: 'charge', count: 25, message: 'card declined again' });
    const all = [...early, ...late].sort((a, b) => Number(b) - Number(a));
    expect(big.taskIds).toEqual(all.slice(0, 20));
    expect(big.firstAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(big.firstAt.getTime()).toBeLessThanOrEqual(mid.getTime());
    expect(big.lastAt.getTime()).toBeGreaterThanOrEqual(mid.getTime());
    expect(big.lastAt.getTime()).toBeLessThanOrEqual(after.getTime());
    expect(groups.filter((g) => g.stepName === 'ship').map((g) => [g.code, g.message, g.count])).toEqual([
      ['PERMANENT', 'no courier', 2],
      ['PERMANENT', 'lost parcel', 1],
    ]);
    expect(groups[0]).toBe(big);
    // Another namespace is another group; the filters narrow.
    expect((await t.tasker.listFailures()).filter((g) => g.code === 'INBOX_CODE').map((g) => `${g.namespace}:${g.count}`).sort()).toEqual(['ops:25', 'ops_b:3']);
    expect(await t.tasker.listFailures({ namespace: 'nowhere' })).toEqual([]);
    await expect(t.tasker.listFailures({ namespace: 'bad name' })).rejects.toThrow(TaskValidationError);

    // Cleared from the inbox once cancelled.
    expect(await t.tasker.cancelTasks({ code: 'INBOX_CODE' }, BY)).toEqual({ count: 28 });
    expect((await t.tasker.listFailures()).filter((g) => g.code === 'INBOX_CODE')).toEqual([]);
    expect(await t.tasker.cancelTasks({ state: 'error' }, BY)).toEqual({ count: 3 });
    expect(await t.tasker.listFailures()).toEqual([]);
  });

  it('retryTasks by each filter field: only tasks in error, each once, in batches, with its own audit entry and event', async () => {
    const [e1, e2, e3] = await run(checkout(), { fail: declined }, 3);
    const [e4] = await run(checkout('2.0.0'), { fail: declined });
    const [e5] = await run(checkout(), { fail: { step: 'ship', message: 'no courier', code: 'COURIER' } });
    const [e6] = await run({ namespace: 'ops_b', name: 'refund' }, { fail: { step: 'refund', message: 'gone', code: 'GONE' } });
    const [c1] = await run(checkout(), {});
    const [p1] = await delayed(1);
    const errors = [e1, e2, e3, e4, e5, e6];
    const retried: Record<string, number> = Object.fromEntries(errors.map((id) => [id, 0]));
    const expectRetry = async (filter: Parameters<typeof t.tasker.retryTasks>[0], ids: string[]) => {
      expect(await t.tasker.retryTasks(filter, BY)).toEqual({ count: ids.length });
      for (const id of ids) retried[id]++;
      await settled(errors);
    };

    await expectRetry({ ids: [e1, c1, p1] }, [e1]);
    await expectRetry({ version: '2.0.0' }, [e4]);
    await expectRetry({ code: 'GONE' }, [e6]);
    await expectRetry({ stepName: 'ship' }, [e5]);
    await expectRetry({ state: 'error', namespace: 'ops_b' }, [e6]);
    await expectRetry({ state: 'pending' }, []);
    act.mockClear();
    await expectRetry({ namespace: 'ops', name: 'checkout', code: 'CARD_DECLINED' }, [e1, e2, e3, e4]);
    expect(act).toHaveBeenCalledTimes(2); // 4 tasks, 2 per batch

    for (const id of errors) {
      expect(await byEntries(id, 'pending')).toBe(retried[id]);
      expect(eventCount(TaskerEvents.TASK_RETRY_REQUESTED, id)).toBe(retried[id]);
    }
    expect(await state(c1)).toBe('complete');
    expect(await state(p1)).toBe('pending');
    expect(eventCount(TaskerEvents.TASK_RETRY_REQUESTED, c1) + eventCount(TaskerEvents.TASK_RETRY_REQUESTED, p1)).toBe(0);
    await t.tasker.cancelTasks({ ids: [...errors, p1] });
  });

  it('cancelTasks: unfinished tasks matching the filter, in batches, each with its audit entry and one event; finished ones are not counted', async () => {
    const pending = await delayed(5);
    const [e1] = await run(checkout(), { fail: { step: 'charge', message: 'x', code: 'CANCEL_ME' } });
    const [done] = await run(checkout(), {});
    act.mockClear();
    expect(await t.tasker.cancelTasks({ ids: [...pending, e1, done] }, BY)).toEqual({ count: 6 });
    expect(act).toHaveBeenCalledTimes(3); // the complete task is no candidate: 6 tasks, 2 per batch

    for (const id of [...pending, e1]) {
      expect(await state(id)).toBe('cancelled');
      expect(await byEntries(id, 'cancelled')).toBe(1);
      expect(eventCount(TaskerEvents.TASK_CANCELLED, id)).toBe(1);
    }
    expect(await state(done)).toBe('complete');
    expect(await t.tasker.cancelTasks({ ids: [...pending, e1, done] }, BY)).toEqual({ count: 0 });
    for (const id of pending) expect(eventCount(TaskerEvents.TASK_CANCELLED, id)).toBe(1);
  });

  it('a task a worker holds is passed over by its batch and done afterwards, waiting for its lock', async () => {
    const [held, free] = await delayed(2);
    await withClient(async (c) => {
      await c.query('BEGIN');
      await c.query(`SELECT 1 FROM "${schema}".tasks WHERE id = $1 FOR UPDATE`, [held]);
      const cancelling = t.tasker.cancelTasks({ ids: [held, free] }, BY);
      await waitFor('the free task to be cancelled by the batch', async () => (await state(free)) === 'cancelled');
      expect(await state(held)).toBe('pending');
      await c.query('COMMIT');
      expect(await cancelling).toEqual({ count: 2 });
    });
    expect(await state(held)).toBe('cancelled');
  });

  it('refuses an empty or malformed filter, naming the problem', async () => {
    const problem = async (f: unknown) => {
      const e = await t.tasker.retryTasks(f as never, BY).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TaskValidationError);
      return (e as TaskValidationError).errors.map((x) => x.field);
    };
    expect(await problem({})).toEqual(['filter']);
    expect(await problem({ namespace: undefined })).toEqual(['filter']);
    expect(await problem(null)).toEqual(['filter']);
    expect(await problem({ colour: 'red' })).toEqual(['colour', 'filter']);
    expect(await problem({ ids: [] })).toEqual(['filter.ids']);
    expect(await problem({ ids: ['1', 'x'] })).toEqual(['filter.ids']);
    expect(await problem({ state: 'asleep' })).toEqual(['filter.state']);
    expect(await problem({ stepName: '' })).toEqual(['filter.stepName']);
    await expect(t.tasker.cancelTasks({}, BY)).rejects.toThrow('Invalid bulk action filter: filter must name at least one of');
    await expect(t.tasker.retryTasks({ namespace: 'ops' }, { actor: 5 as never })).rejects.toThrow(TaskValidationError);
  });
});
