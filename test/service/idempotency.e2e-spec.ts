import type { TaskRequest, TaskView } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { IDEM_HANDLERS } from '../fixtures/durability-idem.workflows';

/**
 * SPEC §3: the same idempotencyKey (per namespace and name) brings back the existing task, also
 * under concurrent calls and across processes; bulk creation answers in request order.
 */
describe('idempotent task creation', () => {
  const schema = uniqueSchema('idem');
  let a: TestApp;
  let b: TestApp;
  const order = (key: string, extra: Partial<TaskRequest> = {}): TaskRequest => ({
    name: 'order',
    namespace: 'idem',
    context: { key },
    idempotencyKey: key,
    ...extra,
  });

  async function countTasks(where: string, params: unknown[]): Promise<number> {
    return withClient(async (c) => {
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM "${schema}".tasks WHERE ${where}`, params);
      return rows[0].n as number;
    });
  }
  const createdEvents = (taskId: string) =>
    [...a.events, ...b.events].filter((e) => e.event === 'tasker.task.created' && e.taskId === taskId).length;

  beforeAll(async () => {
    // API-only apps: this file is about the rows createTask writes, not about running them.
    a = await startApp(schema, IDEM_HANDLERS, { worker: { enabled: false }, poolSize: 10 });
    b = await startApp(schema, IDEM_HANDLERS, { worker: { enabled: false }, poolSize: 10 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await dropSchema(schema);
  });

  it('creates one task for 20 concurrent calls with the same key, and all of them return it', async () => {
    const views = await Promise.all(Array.from({ length: 20 }, (_, i) => a.tasker.createTask(order('k-20', { reason: `call ${i}` }))));
    const ids = new Set(views.map((v) => v.id));
    expect(ids.size).toBe(1);
    const [id] = ids;
    expect(await countTasks(`idempotency_key = $1`, ['k-20'])).toBe(1);
    expect(views.every((v) => v.idempotencyKey === 'k-20' && v.namespace === 'idem' && v.name === 'order')).toBe(true);
    // One creation, one set of rows, one event: the winner's.
    expect(await countTasks(`id = $1 AND steps_total = 1`, [id])).toBe(1);
    expect(createdEvents(id)).toBe(1);
    // The one task keeps the first creator's request, whatever the others said.
    const winner = views.find((v) => v.reason !== undefined)!.reason;
    expect(views.every((v) => v.reason === winner)).toBe(true);
  });

  it('creates one task when two apps (two pools) race with the same key', async () => {
    const calls = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).tasker.createTask(order('k-two-apps')));
    const views = await Promise.all(calls);
    expect(new Set(views.map((v) => v.id)).size).toBe(1);
    expect(await countTasks(`idempotency_key = $1`, ['k-two-apps'])).toBe(1);
    expect(createdEvents(views[0].id)).toBe(1);
  });

  it('scopes keys per namespace and name: the same key elsewhere creates another task, itself idempotent', async () => {
    const key = 'k-scoped';
    const first = await Promise.all([
      a.tasker.createTask(order(key)),
      b.tasker.createTask({ ...order(key), namespace: 'idem_other' }),
      a.tasker.createTask({ ...order(key), name: 'invoice' }),
    ]);
    expect(new Set(first.map((v) => v.id)).size).toBe(3);
    expect(first.map((v) => [v.namespace, v.name])).toEqual([
      ['idem', 'order'],
      ['idem_other', 'order'],
      ['idem', 'invoice'],
    ]);
    const again = await Promise.all([
      b.tasker.createTask(order(key)),
      a.tasker.createTask({ ...order(key), namespace: 'idem_other' }),
      b.tasker.createTask({ ...order(key), name: 'invoice' }),
    ]);
    expect(again.map((v) => v.id)).toEqual(first.map((v) => v.id));
    expect(await countTasks(`idempotency_key = $1`, [key])).toBe(3);
  });

  it('creates tasks without a key every time', async () => {
    const views = await Promise.all([a.tasker.createTask({ name: 'order', namespace: 'idem', context: {} }), a.tasker.createTask({ name: 'order', namespace: 'idem', context: {} })]);
    expect(views[0].id).not.toBe(views[1].id);
  });

  it('bulk: 200 tasks in one call come back in request order, a key repeated inside the batch and a known key included', async () => {
    const known = (await a.tasker.createTask(order('k-known'))).id;
    const requests: TaskRequest[] = Array.from({ length: 200 }, (_, i) => ({
      name: 'order',
      namespace: 'idem',
      context: { i },
      idempotencyKey: `bulk-${i}`,
    }));
    requests[150] = { ...requests[150], idempotencyKey: 'bulk-10' }; // duplicate of request 10 inside the batch
    requests[77] = { ...requests[77], idempotencyKey: 'k-known' }; // created before the batch
    requests[123] = { name: 'order', namespace: 'idem', context: { i: 123 } }; // no key
    const before = await countTasks('true', []);

    const views = await b.tasker.createTasks(requests);

    expect(views).toHaveLength(200);
    expect(await countTasks('true', [])).toBe(before + 198);
    for (let i = 0; i < 200; i++) {
      if (i === 150) continue;
      if (i === 77) continue;
      expect(views[i].context).toEqual({ i });
      expect(views[i].idempotencyKey).toBe(i === 123 ? undefined : `bulk-${i}`);
    }
    expect(views[150].id).toBe(views[10].id);
    expect(views[150].context).toEqual({ i: 10 });
    expect(views[77].id).toBe(known);
    expect(new Set(views.map((v) => v.id)).size).toBe(199); // 198 new and the known one
    const fresh = new Set(views.filter((_, i) => i !== 150 && i !== 77).map((v) => v.id));
    expect([...fresh].filter((id) => createdEvents(id) !== 1)).toEqual([]);
    expect(createdEvents(known)).toBe(1); // from its own creation, not again from the batch
  });

  it('bulk: two concurrent batches with the same keys in opposite orders create each task once', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `cross-${i}`);
    const forward = keys.map((k) => order(k));
    const backward = [...forward].reverse();
    const [x, y]: TaskView[][] = await Promise.all([a.tasker.createTasks(forward), b.tasker.createTasks(backward)]);
    expect(x.map((v) => v.idempotencyKey)).toEqual(keys);
    expect(y.map((v) => v.id)).toEqual([...x].reverse().map((v) => v.id));
    expect(await countTasks(`idempotency_key LIKE 'cross-%'`, [])).toBe(50);
  });
});
