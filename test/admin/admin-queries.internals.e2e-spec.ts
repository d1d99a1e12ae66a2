// Internals: TaskerWorker's owner id, the id GET /tasker/workers must list for this process's worker.
import { PermanentError, RetryableError } from 'nestjs-tasker';
import { TaskerWorker } from '../../libs/tasker/src/orchestration/tasker.worker';
import { Behaviour, VariationsWorkflow } from '../fixtures/variations.workflow';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { AdminApp, DASH, expectError, field, startAdminApp, waitForTaskState } from '../support/admin-app';
import { dropSchema, uniqueSchema } from '../support/database';
import { waitFor } from '../support/wait';

type Json = Record<string, any>;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Reading over HTTP: list with filters and cursors, detail, audit, graph, handlers, workers, me; their 400s and 404s. */
describe('admin API: finding and diagnosing tasks', () => {
  const schema = uniqueSchema('adm_query');
  let a: AdminApp;
  const ids: Record<string, string> = {};
  let linearIds: string[] = [];

  beforeAll(async () => {
    a = await startAdminApp(schema, [Behaviour, VariationsWorkflow, LinearWorkflow]);
    const behaviour = a.provider(Behaviour);
    behaviour.plan('broken', 'work', () => {
      throw new PermanentError('card declined', { code: 'CARD_DECLINED' });
    });
    behaviour.plan('later', 'work', () => {
      throw new RetryableError('rate limited', { retryAfterMs: 600_000, code: 'HTTP_429' });
    });
    // Created one by one, so ids (and "newest first") are in this order.
    for (let i = 0; i < 3; i++) {
      const r = await a.post('/tasker/tasks', { name: 'linear', namespace: 'scenarios', context: { x: i }, tags: ['batch'] });
      linearIds.push(r.body.id);
    }
    ids.broken = (await a.post('/tasker/tasks', { name: 'variations', namespace: 'variations', context: { x: 6, key: 'broken' } })).body.id;
    ids.later = (await a.post('/tasker/tasks', { name: 'variations', namespace: 'variations', context: { x: 6, key: 'later' } })).body.id;
    ids.delayed = (await a.post('/tasker/tasks', { name: 'linear', namespace: 'scenarios', context: { x: 1 }, runAt: '2099-01-01T00:00:00Z' })).body.id;
    linearIds = [...linearIds, ids.delayed];
    for (const id of linearIds.slice(0, 3)) await waitForTaskState(a, id, 'complete');
    await waitForTaskState(a, ids.broken, 'error');
    await waitFor('the rate-limited step to wait for its retry', async () => {
      const d = (await a.get(`/tasker/tasks/${ids.later}`)).body as Json;
      return d.steps.find((s: Json) => s.name === 'work').state === 'error' && d.steps.every((s: Json) => s.state !== 'in_progress');
    });
  });
  afterAll(async () => {
    await a?.close();
    await dropSchema(schema);
  });

  const list = async (query: string): Promise<Json> => {
    const r = await a.get(`/tasker/tasks${query}`, DASH);
    expect(r.status).toBe(200);
    return r.body as Json;
  };
  const idsOf = (page: Json) => page.items.map((t: Json) => t.id);
  const step = (d: Json, name: string) => d.steps.find((s: Json) => s.name === name) as Json;

  it('lists newest first, with filters by state, namespace, name and tag', async () => {
    const all = [ids.delayed, ids.later, ids.broken, ...linearIds.slice(0, 3).reverse()];
    expect(await list('')).toEqual({ items: expect.any(Array), nextCursor: null });
    expect(idsOf(await list(''))).toEqual(all);
    expect(idsOf(await list('?state=error'))).toEqual([ids.broken]);
    expect(idsOf(await list('?state=complete'))).toEqual(linearIds.slice(0, 3).reverse());
    expect(idsOf(await list('?state=pending'))).toEqual([ids.delayed]);
    expect(idsOf(await list('?state=in_progress'))).toEqual([ids.later]);
    expect(idsOf(await list('?state=cancelled'))).toEqual([]);
    expect(idsOf(await list('?namespace=variations'))).toEqual([ids.later, ids.broken]);
    expect(idsOf(await list('?name=linear'))).toEqual([ids.delayed, ...linearIds.slice(0, 3).reverse()]);
    expect(idsOf(await list('?tag=batch'))).toEqual(linearIds.slice(0, 3).reverse());
    expect(idsOf(await list('?tag=batch&state=pending'))).toEqual([]);
    expect(idsOf(await list('?namespace=scenarios&state=pending&name=linear'))).toEqual([ids.delayed]);
    expect(idsOf(await list('?namespace=nobody'))).toEqual([]);
    const [item] = (await list('?state=error')).items;
    expect(item).toMatchObject({ id: ids.broken, name: 'variations', namespace: 'variations', state: 'error', initiator: 'alice' });
    expect(item.steps).toBeUndefined();
  });

  it('pages with cursors: every task once, in order, and the last page has no cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Json = await list(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...idsOf(page));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(idsOf(await list('')));
    const filtered = await list('?namespace=scenarios&limit=3');
    expect(filtered.nextCursor).toEqual(expect.any(String));
    expect(idsOf(await list(`?namespace=scenarios&limit=3&cursor=${filtered.nextCursor}`))).toEqual([linearIds[0]]);
  });

  it('400 for bad filters, limits and cursors, one entry per field', async () => {
    const states = 'state must be one of the following values: pending, in_progress, complete, error, cancelled, resolved_manually';
    expectError(await a.get('/tasker/tasks?state=failed&limit=0&colour=red'), 400, /^Invalid request: /, [
      field('colour', 'property colour should not exist'),
      field('state', states),
      field('limit', 'limit must not be less than 1'),
    ]);
    expectError(await a.get('/tasker/tasks?limit=501'), 400, 'Invalid request: limit must not be greater than 500', [
      field('limit', 'limit must not be greater than 500'),
    ]);
    expectError(await a.get('/tasker/tasks?limit=2.5'), 400, /limit must be an integer number/, [field('limit', 'limit must be an integer number')]);
    expectError(await a.get('/tasker/tasks?limit=ten'), 400, /limit must be an integer number/, [
      field('limit', 'limit must not be greater than 500', 'limit must not be less than 1', 'limit must be an integer number'),
    ]);
    expectError(await a.get('/tasker/tasks?state=error&state=complete'), 400, /state must be one of/, [field('state', states)]);
    expectError(await a.get('/tasker/tasks?namespace=a%20b'), 400, 'Invalid request: namespace must be a namespace name', [
      field('namespace', 'namespace must be a namespace name'),
    ]);
    expectError(await a.get(`/tasker/tasks?tag=${'t'.repeat(101)}`), 400, /tag must be shorter than or equal to 100 characters/, [
      field('tag', 'tag must be shorter than or equal to 100 characters'),
    ]);
    expectError(await a.get(`/tasker/tasks?cursor=${'c'.repeat(65)}`), 400, /cursor must be shorter than or equal to 64 characters/, [
      field('cursor', 'cursor must be shorter than or equal to 64 characters'),
    ]);
    expectError(await a.get('/tasker/tasks?cursor=not-a-cursor'), 400, 'Invalid task query: cursor is not a cursor returned by listTasks', [
      field('cursor', 'is not a cursor returned by listTasks'),
    ]);
    expect((await list('?limit=500')).items).toHaveLength(6);
  });

  it('detail of a failed task: each step with state, attempts / limit, last error with stack, results, timings, readiness, dependencies', async () => {
    const r = await a.get(`/tasker/tasks/${ids.broken}`, DASH);
    expect(r.status).toBe(200);
    const d = r.body as Json;
    expect(d).toMatchObject({ id: ids.broken, state: 'error', context: { x: 6, key: 'broken' } });
    expect(d.steps.map((s: Json) => [s.name, s.state, s.dependsOn])).toEqual([
      ['start', 'complete', []],
      ['work', 'error', ['start']],
      ['side', 'complete', ['start']],
      ['after_work', 'pending', ['work']],
      ['side_end', 'complete', ['side']],
    ]);
    const work = step(d, 'work');
    expect(work).toMatchObject({
      attempts: 1,
      retryLimit: 4,
      retryable: true,
      nextRetryAt: null,
      completedAt: null,
      lastError: { name: 'PermanentError', message: 'card declined', code: 'CARD_DECLINED', stack: expect.stringMatching(/^PermanentError: card declined\n\s+at /) },
      readiness: { ready: false, reason: 'attempts_exhausted', parentsDone: 1, parentsTotal: 1, attempts: 1, retryLimit: 4 },
    });
    expect(work.startedAt).toMatch(ISO);
    expect(work.results).toBeUndefined();
    const start = step(d, 'start');
    expect(start).toMatchObject({ results: 36, lastError: null, attempts: 1, retryLimit: 3, readiness: { ready: false, reason: 'done' } });
    expect(start.durationMs).toEqual(expect.any(Number));
    expect(new Date(start.completedAt).getTime() - new Date(start.startedAt).getTime()).toBe(start.durationMs);
    expect(step(d, 'after_work')).toMatchObject({ attempts: 0, readiness: { ready: false, reason: 'waiting_for_dependencies', parentsDone: 0, parentsTotal: 1 } });
  });

  it('detail of a step waiting for its retry: next retry time and why it is not ready', async () => {
    const d = (await a.get(`/tasker/tasks/${ids.later}`, DASH)).body as Json;
    const work = step(d, 'work');
    expect(d.state).toBe('in_progress');
    expect(work).toMatchObject({
      state: 'error',
      attempts: 1,
      retryLimit: 4,
      lastError: { name: 'RetryableError', message: 'rate limited', code: 'HTTP_429' },
      readiness: { ready: false, reason: 'waiting_for_retry' },
    });
    const wait = new Date(work.nextRetryAt).getTime() - new Date(work.readiness.availableAt).getTime();
    expect(wait).toBe(0);
    expect(new Date(work.nextRetryAt).getTime()).toBeGreaterThan(new Date(work.startedAt).getTime() + 500_000);
  });

  it('audit trail: every transition, oldest first, the same as the service reports', async () => {
    const r = await a.get(`/tasker/tasks/${linearIds[0]}/audit`, DASH);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(JSON.parse(JSON.stringify(await a.tasker.getAuditTrail(linearIds[0]))));
    const trail = r.body as Json[];
    expect(trail[0]).toEqual({ taskId: linearIds[0], stepName: null, from: null, to: 'pending', at: expect.stringMatching(ISO), actor: 'alice', error: null });
    expect(trail.map((e) => [e.stepName, e.from, e.to])).toEqual([
      [null, null, 'pending'],
      [null, 'pending', 'in_progress'],
      ...['step_1', 'step_2', 'step_3', 'step_4'].flatMap((s) => [
        [s, 'pending', 'in_progress'],
        [s, 'in_progress', 'complete'],
      ]),
      [null, 'in_progress', 'complete'],
    ]);
    const failed = (await a.get(`/tasker/tasks/${ids.broken}/audit`, DASH)).body as Json[];
    expect(failed.find((e) => e.stepName === 'work' && e.to === 'error')).toMatchObject({
      attempt: 1,
      error: { name: 'PermanentError', message: 'card declined', code: 'CARD_DECLINED' },
    });
  });

  it('graph: nodes with states, edges, and a Mermaid chart coloured by state', async () => {
    const r = await a.get(`/tasker/tasks/${ids.broken}/graph`, DASH);
    expect(r.status).toBe(200);
    expect(r.body.nodes).toEqual([
      { id: 'start', state: 'complete', attempts: 1, retryLimit: 3 },
      { id: 'work', state: 'error', attempts: 1, retryLimit: 4 },
      { id: 'side', state: 'complete', attempts: 1, retryLimit: 3 },
      { id: 'after_work', state: 'pending', attempts: 0, retryLimit: 3 },
      { id: 'side_end', state: 'complete', attempts: 1, retryLimit: 3 },
    ]);
    expect(r.body.edges).toEqual([
      { from: 'start', to: 'work' },
      { from: 'start', to: 'side' },
      { from: 'work', to: 'after_work' },
      { from: 'side', to: 'side_end' },
    ]);
    const lines = (r.body.mermaid as string).split('\n');
    expect(lines[0]).toBe('flowchart TD');
    expect(lines).toContain('  s1["work<br/>error"]:::error');
    expect(lines).toContain('  s1 --> s3');
    expect(lines.filter((l) => l.startsWith('  classDef')).map((l) => l.split(' ')[3])).toEqual(['complete', 'error', 'pending']);
  });

  it('404 in the error shape for an unknown or malformed task id, on detail, audit and graph', async () => {
    for (const suffix of ['', '/audit', '/graph']) {
      expectError(await a.get(`/tasker/tasks/999999999${suffix}`, DASH), 404, 'Task "999999999" does not exist.');
      expectError(await a.get(`/tasker/tasks/abc${suffix}`, DASH), 404, 'Task "abc" does not exist.');
    }
    expectError(await a.get('/tasker/tasks/%FF', DASH), 400, "Failed to decode param '%FF'");
    expectError(await a.get('/tasker/nothing', DASH), 404, 'Cannot GET /tasker/nothing');
  });

  it('handlers: the registered task types with their step graphs, filterable', async () => {
    const r = await a.get('/tasker/handlers', DASH);
    expect(r.status).toBe(200);
    expect(r.body.map((t: Json) => `${t.namespace}/${t.name}@${t.version}`).sort()).toEqual(['scenarios/linear@1.0.0', 'variations/variations@1.0.0']);
    const linear = (await a.get('/tasker/handlers?namespace=scenarios', DASH)).body as Json[];
    expect(linear).toHaveLength(1);
    expect(linear[0].steps).toEqual([
      { name: 'step_1', description: null, dependsOn: [], retryLimit: 3, retryable: true, timeoutMs: null },
      { name: 'step_2', description: null, dependsOn: ['step_1'], retryLimit: 3, retryable: true, timeoutMs: null },
      { name: 'step_3', description: null, dependsOn: ['step_2'], retryLimit: 3, retryable: true, timeoutMs: null },
      { name: 'step_4', description: null, dependsOn: ['step_3'], retryLimit: 3, retryable: true, timeoutMs: null },
    ]);
    expect(linear[0].mermaid).toBe(['flowchart TD', '  s0["step_1"]', '  s1["step_2"]', '  s2["step_3"]', '  s3["step_4"]', '  s0 --> s1', '  s1 --> s2', '  s2 --> s3'].join('\n'));
    expect((await a.get('/tasker/handlers?name=variations', DASH)).body.map((t: Json) => t.name)).toEqual(['variations']);
    expect((await a.get('/tasker/handlers?namespace=nobody', DASH)).body).toEqual([]);
    expectError(await a.get('/tasker/handlers?namespace=a%20b&colour=red', DASH), 400, /^Invalid request: /, [
      field('colour', 'property colour should not exist'),
      field('namespace', 'namespace must be a namespace name'),
    ]);
  });

  it('workers and me: the fleet alive, and who is asking', async () => {
    const workers = (await a.get('/tasker/workers', DASH)).body as Json[];
    expect(workers).toEqual([
      expect.objectContaining({ id: a.app.get(TaskerWorker).owner, pid: process.pid, taskTypes: expect.arrayContaining(['scenarios/linear@1.0.0']) }),
    ]);
    expect((await a.get('/tasker/me', DASH)).body).toEqual({ name: 'dash', role: 'viewer' });
    expect((await a.get('/tasker/me')).body).toEqual({ name: 'alice', role: 'operator' });
  });
});
