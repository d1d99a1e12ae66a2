import request from 'supertest';
import { OPS_WORKFLOWS, OpsContext } from '../fixtures/operations.workflows';
import { AdminApp, DASH, expectError, field, startAdminApp, waitForTaskState } from '../support/admin-app';
import { dropSchema, uniqueSchema } from '../support/database';

type Json = Record<string, any>;

/** The failures inbox and the bulk actions over HTTP: who may call them, what they answer, what they record. */
describe('admin API: failures inbox and bulk actions', () => {
  const schema = uniqueSchema('adm_ops');
  let a: AdminApp;
  const failed: Record<string, string[]> = {};

  async function start(type: { namespace: string; name: string; version?: string }, context: OpsContext, state: string): Promise<string> {
    const res = await a.post('/tasker/tasks', { ...type, context });
    expect(res.status).toBe(201);
    await waitForTaskState(a, res.body.id, state);
    return res.body.id as string;
  }

  beforeAll(async () => {
    a = await startAdminApp(schema, OPS_WORKFLOWS);
    const checkout = (version: string) => ({ namespace: 'ops', name: 'checkout', version });
    const declined = { step: 'charge', message: 'card declined', code: 'CARD_DECLINED' };
    for (const [key, type, fail, n] of [
      ['v1-declined', checkout('1.0.0'), declined, 3],
      ['v2-declined', checkout('2.0.0'), declined, 2],
      ['v1-courier', checkout('1.0.0'), { step: 'ship', message: 'no courier' }, 2],
      ['v1-address', checkout('1.0.0'), { step: 'ship', message: 'address invalid' }, 1],
      ['refund-gone', { namespace: 'ops_b', name: 'refund' }, { step: 'refund', message: 'payment gone', code: 'GONE' }, 2],
    ] as const) {
      failed[key] = [];
      for (let i = 0; i < n; i++) failed[key].push(await start(type, { fail }, 'error'));
    }
    await start(checkout('1.0.0'), {}, 'complete');
  });
  afterAll(async () => {
    await a?.close();
    await dropSchema(schema);
  });

  const newestFirst = (ids: string[]) => [...ids].sort((x, y) => Number(y) - Number(x));

  it('GET /tasker/failures: tasks in error grouped by type, version, step and code (and message when the code is a default one), for a viewer too', async () => {
    const res = await a.get('/tasker/failures', DASH);
    expect(res.status).toBe(200);
    const groups = res.body as Json[];
    const key = (g: Json) => `${g.namespace}/${g.name}@${g.version} ${g.stepName} ${g.code ?? '-'} ${g.message} ${g.count}`;
    expect(groups.map(key).sort()).toEqual(
      [
        'ops/checkout@1.0.0 charge CARD_DECLINED card declined 3',
        'ops/checkout@2.0.0 charge CARD_DECLINED card declined 2',
        'ops/checkout@1.0.0 ship PERMANENT no courier 2',
        'ops/checkout@1.0.0 ship PERMANENT address invalid 1',
        'ops_b/refund@1.0.0 refund GONE payment gone 2',
      ].sort(),
    );
    const v1 = groups.find((g) => g.version === '1.0.0' && g.code === 'CARD_DECLINED')!;
    expect(v1.taskIds).toEqual(newestFirst(failed['v1-declined']));
    expect(Date.parse(v1.firstAt)).toBeLessThanOrEqual(Date.parse(v1.lastAt));
    // Largest first.
    expect(groups[0].count).toBe(3);

    const onlyB = await a.get('/tasker/failures?namespace=ops_b', DASH);
    expect((onlyB.body as Json[]).map((g) => g.stepName)).toEqual(['refund']);
    expect((await a.get('/tasker/failures?namespace=ops&name=refund')).body).toEqual([]);
    expectError(await a.get('/tasker/failures?state=error'), 400, 'Invalid request: property state should not exist', [field('state', 'property state should not exist')]);
  });

  it('bulk routes: operators only, a filter with at least one known field, no unknown fields', async () => {
    expectError(await a.post('/tasker/tasks/retry', { filter: { namespace: 'ops' } }, DASH), 403, 'API key "dash" has the viewer role; this action needs an operator key.');
    expectError(await a.post('/tasker/tasks/cancel', { filter: { namespace: 'ops' } }, DASH), 403, 'API key "dash" has the viewer role; this action needs an operator key.');
    const empty = await a.post('/tasker/tasks/retry', { filter: {} });
    expectError(empty, 400, /^Invalid bulk action filter: filter must name at least one of ids, state/, [
      field('filter', 'must name at least one of ids, state, namespace, name, version, stepName, code (an empty filter would act on every task)'),
    ]);
    expect((await a.post('/tasker/tasks/cancel', { filter: {} })).status).toBe(400);
    const missing = await a.post('/tasker/tasks/retry', { reason: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.body.details.map((d: Json) => d.field)).toContain('filter');
    const unknown = await a.post('/tasker/tasks/retry', { filter: { namespace: 'ops', colour: 'red' } });
    expectError(unknown, 400, 'Invalid request: property colour should not exist', [field('filter.colour', 'property colour should not exist')]);
    expect((await a.post('/tasker/tasks/retry', { filter: { namespace: 'ops' }, force: true })).status).toBe(400);
    expect((await a.post('/tasker/tasks/retry', { filter: { ids: ['abc'] } })).status).toBe(400);
    expect((await a.post('/tasker/tasks/retry', { filter: { state: 'sleeping' } })).status).toBe(400);
    // Nothing was retried by any refused call.
    expect((await a.get('/tasker/failures')).body.reduce((n: number, g: Json) => n + g.count, 0)).toBe(10);
  });

  it('POST /tasker/tasks/retry retries the matching tasks, each with the caller as actor and the reason; /tasks/:id/retry still acts on one task', async () => {
    const res = await a.post('/tasker/tasks/retry', { filter: { namespace: 'ops_b', code: 'GONE' }, reason: 'provider back' });
    expect([res.status, res.body]).toEqual([200, { count: 2 }]);
    for (const id of failed['refund-gone']) {
      await waitForTaskState(a, id, 'error'); // it fails again: the context still says so
      const trail = (await a.get(`/tasker/tasks/${id}/audit`)).body as Json[];
      expect(trail.filter((e) => !e.stepName && e.from === 'error' && e.to === 'pending')).toEqual([
        expect.objectContaining({ actor: 'alice', reason: 'provider back' }),
      ]);
    }
    // The single-task route is not captured by the bulk one, nor the other way round.
    const one = await a.post(`/tasker/tasks/${failed['v1-address'][0]}/retry`, { reason: 'one' });
    expect([one.status, one.body.id]).toEqual([200, failed['v1-address'][0]]);
    await waitForTaskState(a, failed['v1-address'][0], 'error');
    // A filter that matches no task in error: nothing to do.
    expect((await a.post('/tasker/tasks/retry', { filter: { namespace: 'ops', state: 'complete' } })).body).toEqual({ count: 0 });
  });

  it('POST /tasker/tasks/cancel cancels the unfinished matching tasks only', async () => {
    const res = await a.post('/tasker/tasks/cancel', { filter: { namespace: 'ops', name: 'checkout', stepName: 'ship' }, reason: 'courier strike' });
    expect([res.status, res.body]).toEqual([200, { count: 3 }]);
    for (const id of [...failed['v1-courier'], ...failed['v1-address']]) {
      const t = (await a.get(`/tasker/tasks/${id}`)).body as Json;
      expect(t.state).toBe('cancelled');
      const trail = (await a.get(`/tasker/tasks/${id}/audit`)).body as Json[];
      expect(trail.filter((e) => !e.stepName && e.to === 'cancelled')).toEqual([expect.objectContaining({ actor: 'alice', reason: 'courier strike' })]);
    }
    // Cancelled tasks are finished: a second call finds nothing.
    expect((await a.post('/tasker/tasks/cancel', { filter: { ids: failed['v1-courier'] } })).body).toEqual({ count: 0 });
  });

  it('OpenAPI: the inbox and the bulk routes with their DTOs', async () => {
    const doc = (await request(a.server).get('/tasker/docs-json')).body as Json;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/tasker/failures', '/tasker/tasks/retry', '/tasker/tasks/cancel']));
    expect(doc.paths['/tasker/failures'].get.responses['200'].content['application/json'].schema).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/FailureGroupDto' },
    });
    for (const path of ['/tasker/tasks/retry', '/tasker/tasks/cancel']) {
      const op = doc.paths[path].post;
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(op.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/BulkActionDto');
      expect(op.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/BulkResultDto');
    }
    expect(Object.keys(doc.components.schemas.BulkActionDto.properties).sort()).toEqual(['filter', 'reason']);
    expect(Object.keys(doc.components.schemas.BulkTaskFilterDto.properties).sort()).toEqual(['code', 'ids', 'name', 'namespace', 'state', 'stepName', 'version']);
    expect(Object.keys(doc.components.schemas.FailureGroupDto.properties).sort()).toEqual(
      ['code', 'count', 'firstAt', 'lastAt', 'message', 'name', 'namespace', 'stepName', 'taskIds', 'version'].sort(),
    );
  });
});
