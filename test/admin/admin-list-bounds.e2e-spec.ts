import { randomBytes } from 'node:crypto';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { AdminApp, DASH, startAdminApp } from '../support/admin-app';
import { dropSchema, uniqueSchema } from '../support/database';

const BIG = 40;
const MB = 1024 * 1024;

/** A context of about 1 MB of JSON that does not compress (its stored size is its size). */
const bigContext = (i: number) => ({ x: i, blob: randomBytes(700_000).toString('base64') });

/**
 * GET /tasker/tasks over tasks with huge contexts: each page is bounded in bytes (contexts over
 * 8 KB are listed as {} with contextTruncated, and never read whole out of Postgres), concurrent
 * lists leave the process answering its health probe, and unchanged pages cost a 304.
 */
describe('admin API: lists bounded in bytes', () => {
  const schema = uniqueSchema('adm_bounds');
  let a: AdminApp;
  const ids: { big: string[]; compressible: string; small: string; edge: string } = { big: [], compressible: '', small: '', edge: '' };
  const later = { name: 'linear', namespace: 'scenarios', runAt: new Date('2099-01-01T00:00:00Z') };

  beforeAll(async () => {
    a = await startAdminApp(schema, [LinearWorkflow]);
    for (let i = 0; i < BIG; i++) ids.big.push((await a.tasker.createTask({ ...later, context: bigContext(i) })).id);
    // 1 MB that compresses to almost nothing: small as stored, large as text.
    ids.compressible = (await a.tasker.createTask({ ...later, context: { x: 1, blob: 'a'.repeat(1_000_000) } })).id;
    ids.small = (await a.tasker.createTask({ ...later, context: { x: 2, orderId: 'A-1' } })).id;
  }, 120_000);
  afterAll(async () => {
    await a?.close();
    await dropSchema(schema);
  });

  it('lists contexts over 8 KB as {} with contextTruncated: true; small ones whole; the detail has every context whole', async () => {
    const res = await a.get('/tasker/tasks?limit=500', DASH);
    expect(res.status).toBe(200);
    expect(Buffer.byteLength(res.text)).toBeLessThan(MB);
    const byId = new Map<string, Record<string, unknown>>(res.body.items.map((t: Record<string, unknown>) => [t.id, t]));
    for (const id of [...ids.big, ids.compressible]) expect(byId.get(id)).toMatchObject({ id, context: {}, contextTruncated: true, state: 'pending' });
    expect(byId.get(ids.small)).toEqual(expect.objectContaining({ context: { x: 2, orderId: 'A-1' } }));
    expect(byId.get(ids.small)).not.toHaveProperty('contextTruncated');
    const detail = await a.get(`/tasker/tasks/${ids.compressible}`, DASH);
    expect(detail.body.context.blob).toHaveLength(1_000_000);
    expect(detail.body).not.toHaveProperty('contextTruncated');
    // TaskerService.listTasks keeps its contract: whole contexts unless asked to bound them.
    const page = await a.tasker.listTasks({ limit: 2 });
    expect(page.items.map((t) => [t.id, t.contextTruncated])).toEqual([[ids.small, undefined], [ids.compressible, undefined]]);
    expect((page.items[1].context.blob as string).length).toBe(1_000_000);
    const bounded = await a.tasker.listTasks({ limit: 2, maxContextBytes: 30 });
    expect(bounded.items.map((t) => [t.context, t.contextTruncated])).toEqual([[{ x: 2, orderId: 'A-1' }, undefined], [{}, true]]);
  });

  it('concurrent lists over huge contexts: no 5xx, pages bounded in bytes, memory bounded, and health answers meanwhile', async () => {
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    let listsInFlight = 0;
    let healthWhileListing = 0;
    const statuses: number[] = [];
    const sizes: number[] = [];
    let done = false;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const health = (async () => {
      while (!done) {
        const r = await a.http().get('/tasker/health/live');
        statuses.push(r.status);
        if (listsInFlight > 0) healthWhileListing++;
      }
    })();
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          Array.from({ length: 6 }, async () => {
            listsInFlight++;
            try {
              const r = await a.get('/tasker/tasks?limit=500', DASH);
              statuses.push(r.status);
              sizes.push(Buffer.byteLength(r.text));
            } finally {
              listsInFlight--;
            }
          }),
        );
      }
    } finally {
      done = true;
      await health;
      clearInterval(sample);
    }
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(sizes).toHaveLength(18);
    for (const size of sizes) expect(size).toBeLessThan(MB);
    expect(healthWhileListing).toBeGreaterThan(0);
    // Six lists at once once took 3.7 GB over contexts like these; bounded pages take almost nothing.
    expect(peak - rssBefore).toBeLessThan(200 * MB);
  });

  it('ETag / If-None-Match: an unchanged list or task answers 304 without a body; a change gives a new ETag', async () => {
    for (const path of ['/tasker/tasks?limit=5', `/tasker/tasks/${ids.small}`]) {
      const first = await a.get(path, DASH);
      const etag = first.headers.etag as string;
      expect(etag).toMatch(/^W\/".+"$/);
      const again = await a.get(path, DASH).set('If-None-Match', etag);
      expect([again.status, again.text ?? '']).toEqual([304, '']);
    }
    const list = await a.get('/tasker/tasks?limit=5', DASH);
    await a.tasker.createTask({ ...later, context: { x: 3 } });
    const changed = await a.get('/tasker/tasks?limit=5', DASH).set('If-None-Match', list.headers.etag as string);
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(list.headers.etag);
  });
});
