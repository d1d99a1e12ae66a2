import { DYNAMIC_PROVIDERS, Gates } from '../fixtures/dynamic-admin.workflows';
import { AdminApp, DASH, expectError, field, startAdminApp, waitForTaskState } from '../support/admin-app';
import { dropSchema, uniqueSchema } from '../support/database';
import { waitFor } from '../support/wait';

type Json = Record<string, any>;

const VIEWER = 'API key "dash" has the viewer role; this action needs an operator key.';

/**
 * Dynamic workflows over HTTP: signals sent by an operator (every status of the route), resolving a
 * map instance by its bracketed name, and the graph of map steps, skipped branches and waiting steps.
 */
describe('admin API: dynamic workflows', () => {
  const schema = uniqueSchema('adm_dyn');
  let a: AdminApp;
  let gates: Gates;

  beforeAll(async () => {
    a = await startAdminApp(schema, DYNAMIC_PROVIDERS);
    gates = a.provider(Gates);
  });
  afterAll(async () => {
    gates?.openAll();
    await a?.close();
    await dropSchema(schema);
  });

  const create = async (name: string, context: Json, extra: Json = {}): Promise<string> => {
    const r = await a.post('/tasker/tasks', { name, namespace: 'ops', context, ...extra });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const detail = async (id: string): Promise<Json> => (await a.get(`/tasker/tasks/${id}`, DASH)).body as Json;
  const step = async (id: string, name: string): Promise<Json> => (await detail(id)).steps.find((s: Json) => s.name === name);
  const stepIn = (id: string, name: string, state: string) =>
    waitFor(`step ${name} of task ${id} to be ${state}`, async () => {
      const s = await step(id, name);
      return s?.state === state ? s : undefined;
    });
  const graph = async (id: string, query = ''): Promise<Json> => {
    const r = await a.get(`/tasker/tasks/${id}/graph${query}`, DASH);
    expect(r.status).toBe(200);
    return r.body as Json;
  };
  const audit = async (id: string): Promise<Json[]> => (await a.get(`/tasker/tasks/${id}/audit`, DASH)).body as Json[];

  describe('POST /tasker/tasks/:id/signals/:name', () => {
    it('200 with the task: the waiting step completes with the payload, the operator is the actor, the reason is recorded', async () => {
      const id = await create('approval', {});
      const ask = await stepIn(id, 'ask', 'waiting');
      expect(ask).toMatchObject({ waitingFor: { kind: 'signal', name: 'approved' }, readiness: { reason: 'waiting for signal "approved"' } });

      const res = await a.post(`/tasker/tasks/${id}/signals/approved`, { payload: { by: 'manager', limit: 500 }, reason: 'budget ok' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, name: 'approval', namespace: 'ops' });
      expect(res.body.steps).toBeUndefined(); // a TaskView, like retry and cancel answer

      const done = await waitForTaskState(a, id, 'complete');
      expect(done.steps.find((s: Json) => s.name === 'pay').results).toEqual({ approvedBy: { by: 'manager', limit: 500 } });
      expect((await audit(id)).find((e) => e.stepName === 'ask' && e.to === 'complete')).toMatchObject({
        from: 'waiting',
        actor: 'alice',
        reason: 'signal "approved": budget ok',
      });

      // The task is finished: 409, and nothing more is recorded.
      const before = (await audit(id)).length;
      expectError(await a.post(`/tasker/tasks/${id}/signals/approved`, {}), 409, `Task ${id} is complete; it can no longer receive signals.`);
      expectError(await a.post(`/tasker/tasks/${id}/signals/other`, {}), 409, `Task ${id} is complete; it can no longer receive signals.`);
      expect((await audit(id)).length).toBe(before);
    });

    it('a signal sent before any step waits is kept (200, no body needed, payload null); the same name again is a 409', async () => {
      const id = await create('approval', {});
      await stepIn(id, 'ask', 'waiting');
      // "other" is waited for by no step: kept.
      const kept = await a.post(`/tasker/tasks/${id}/signals/other`);
      expect(kept.status).toBe(200);
      expect(kept.body).toMatchObject({ id, state: 'in_progress' });
      expectError(
        await a.post(`/tasker/tasks/${id}/signals/other`, { payload: 2 }),
        409,
        `Task ${id} already received signal "other" (kept until a step waits for it); a signal is sent once per task.`,
      );
      expect((await step(id, 'ask')).state).toBe('waiting');

      // Delivered, then again: 409 while the task is still open (pay may not have run yet), or complete.
      expect((await a.post(`/tasker/tasks/${id}/signals/approved`, { payload: null })).status).toBe(200);
      const again = await a.post(`/tasker/tasks/${id}/signals/approved`, { payload: 'twice' });
      expect(again.status).toBe(409);
      expect(again.body.message).toMatch(new RegExp(`^Task ${id} (already received signal "approved" \\(delivered\\)|is complete)`));
      const done = await waitForTaskState(a, id, 'complete');
      expect(done.steps.find((s: Json) => s.name === 'pay').results).toEqual({ approvedBy: null });
    });

    it('404 for an unknown or malformed task', async () => {
      expectError(await a.post('/tasker/tasks/999999999/signals/approved', {}), 404, 'Task "999999999" does not exist.');
      expectError(await a.post('/tasker/tasks/abc/signals/approved', {}), 404, 'Task "abc" does not exist.');
    });

    it('400 for a bad signal name, a bad payload, a bad reason or an unknown field', async () => {
      const id = await create('approval', {});
      await stepIn(id, 'ask', 'waiting');
      const nameRule = 'must be a signal name: 1-128 letters, digits, "_", ".", ":" or "-"';
      for (const bad of ['bad%20name', 'x'.repeat(129), '-dash', 'a%00b', 'r%C3%A9sum%C3%A9']) {
        expectError(await a.post(`/tasker/tasks/${id}/signals/${bad}`, {}), 400, `Invalid signal: name ${nameRule}`, [field('name', nameRule)]);
      }
      expectError(await a.post(`/tasker/tasks/${id}/signals/approved`, { payload: 'a\u0000b' }), 400, /^Invalid signal: payload must not contain NUL characters/, [
        field('payload', 'must not contain NUL characters (\\u0000)'),
      ]);
      let deep: unknown = 1;
      for (let i = 0; i < 70; i++) deep = [deep];
      expectError(await a.post(`/tasker/tasks/${id}/signals/approved`, { payload: deep }), 400, 'Invalid signal: payload must not nest deeper than 64 levels', [
        field('payload', 'must not nest deeper than 64 levels'),
      ]);
      expectError(await a.post(`/tasker/tasks/${id}/signals/approved`, { payload: 1, by: 'mallory' }), 400, 'Invalid request: property by should not exist', [
        field('by', 'property by should not exist'),
      ]);
      expectError(await a.post(`/tasker/tasks/${id}/signals/approved`, { reason: 42 }), 400, /reason must be a string/, [
        field('reason', 'reason must be shorter than or equal to 1000 characters', 'reason must be a string'),
      ]);
      // None of these reached the task: it still waits, and a good signal still works.
      expect((await step(id, 'ask')).state).toBe('waiting');
      expect((await a.post(`/tasker/tasks/${id}/signals/approved`, { payload: 'ok' })).status).toBe(200);
      await waitForTaskState(a, id, 'complete');
    });

    it('401 without a key, 403 for a viewer; the step keeps waiting', async () => {
      const id = await create('approval', {});
      await stepIn(id, 'ask', 'waiting');
      expectError(await a.http().post(`/tasker/tasks/${id}/signals/approved`).send({}), 401, /^Missing or malformed Authorization header/);
      expectError(await a.post(`/tasker/tasks/${id}/signals/approved`, { payload: 1 }, DASH), 403, VIEWER);
      expect((await step(id, 'ask')).state).toBe('waiting');
      expect((await audit(id)).some((e) => e.actor === 'dash')).toBe(false);
      await a.post(`/tasker/tasks/${id}/cancel`, { reason: 'test over' });
    });
  });

  describe('map steps', () => {
    it('graph: one node with its instance counts; ?expand=resize adds the instances; a failed instance is resolved by its bracketed name', async () => {
      const id = await create('thumbs', { items: ['a', 'b', 'fail:c', 'hold:m1', 'hold:m2'] });
      await waitFor('2 done, 2 running, 1 failed', async () => {
        const r = await step(id, 'resize');
        return r?.instances?.done === 2 && r.instances.running === 2 && r.instances.failed === 1 ? r : undefined;
      });

      const g = await graph(id);
      expect(g.nodes.map((n: Json) => n.id)).toEqual(['list', 'resize', 'zip']);
      expect(g.nodes[1]).toEqual({
        id: 'resize',
        state: 'error',
        attempts: 1,
        retryLimit: 1,
        reason: 'waiting for 3 of 5 instances (1 failed)',
        waitingFor: { kind: 'map' },
        instances: { total: 5, done: 2, running: 2, failed: 1, pending: 0 },
        label: 'resize ×5: 2 done, 2 running, 1 failed',
      });
      expect(g.edges).toEqual([
        { from: 'list', to: 'resize' },
        { from: 'resize', to: 'zip' },
      ]);
      expect(g.mermaid).toContain('  s1["resize ×5: 2 done, 2 running, 1 failed<br/>error"]:::error');

      const x = await graph(id, '?expand=resize');
      expect(x.nodes.map((n: Json) => [n.id, n.state])).toEqual([
        ['list', 'complete'],
        ['resize', 'error'],
        ['resize[0]', 'complete'],
        ['resize[1]', 'complete'],
        ['resize[2]', 'error'],
        ['resize[3]', 'in_progress'],
        ['resize[4]', 'in_progress'],
        ['zip', 'pending'],
      ]);
      expect(x.nodes[1].expanded).toEqual({ shown: 5 });
      expect(x.nodes[4]).toMatchObject({ mapOf: 'resize', mapIndex: 2, attempts: 1, retryLimit: 1 });
      expect(x.edges.filter((e: Json) => e.kind === 'instance').map((e: Json) => e.to)).toEqual(['resize[0]', 'resize[1]', 'resize[2]', 'resize[3]', 'resize[4]']);
      expect(x.mermaid).toContain('  s1 -.-> s4');
      expect(x.mermaid).toContain('  s1 --> s7');
      expect((await graph(id, '?expand=*')).nodes).toEqual(x.nodes);
      // A step without instances expands to itself.
      expect((await graph(id, '?expand=zip,list')).nodes).toEqual(g.nodes);

      // The failed instance, by its name as it is (brackets raw) or URL-encoded; the map step is not resolvable itself.
      expectError(
        await a.post(`/tasker/tasks/${id}/steps/resize/resolve`, { results: [] }),
        409,
        `Step "resize" of task ${id} is waiting for its instances; only a pending, failed or waiting step can be resolved (resolve its failed instances instead).`,
      );
      expectError(await a.post(`/tasker/tasks/${id}/steps/resize%5B9%5D/resolve`, {}), 404, `Task "${id}" has no step named "resize[9]".`);
      const resolved = await a.post(`/tasker/tasks/${id}/steps/resize[2]/resolve`, { results: 'c-by-hand', reason: 'bad upload, done by hand' });
      expect(resolved.status).toBe(200);
      expect(await step(id, 'resize[2]')).toMatchObject({ state: 'resolved_manually', results: 'c-by-hand' });
      expect((await step(id, 'resize')).instances).toEqual({ total: 5, done: 3, running: 2, failed: 0 });
      gates.open('m1');
      await stepIn(id, 'resize[3]', 'complete');
      // The other one, URL-encoded, while it still runs: refused.
      expectError(
        await a.post(`/tasker/tasks/${id}/steps/resize%5B4%5D/resolve`, {}),
        409,
        `Step "resize[4]" of task ${id} is in_progress; only a pending, failed or waiting step can be resolved.`,
      );
      gates.open('m2');
      const done = await waitForTaskState(a, id, 'complete');
      expect(done.steps.find((s: Json) => s.name === 'zip').results).toEqual({ files: ['a@0', 'b@1', 'c-by-hand', 'hold:m1@3', 'hold:m2@4'] });
      expect((await graph(id)).nodes[1]).toMatchObject({ state: 'complete', label: 'resize ×5: 5 done' });
      expect((await audit(id)).find((e) => e.stepName === 'resize[2]' && e.to === 'resolved_manually')).toMatchObject({ actor: 'alice', reason: 'bad upload, done by hand' });
    });

    it('400 for a malformed expand, an unknown step or an unknown query field; 404 for an unknown task', async () => {
      const id = await create('thumbs', { items: [] });
      await waitForTaskState(a, id, 'complete');
      // An empty map completes at once, with no instances: its node says so.
      expect((await graph(id)).nodes[1]).toEqual({
        id: 'resize',
        state: 'complete',
        attempts: 1,
        retryLimit: 1,
        instances: { total: 0, done: 0, running: 0, failed: 0, pending: 0 },
        label: 'resize ×0',
      });
      const malformed = 'Invalid request: expand must be * or step names separated by commas';
      for (const q of ['resize[0]', 'a,,b', '', 'a%20b', '*,resize']) {
        expectError(await a.get(`/tasker/tasks/${id}/graph?expand=${q}`, DASH), 400, malformed, [field('expand', 'expand must be * or step names separated by commas')]);
      }
      expectError(await a.get(`/tasker/tasks/${id}/graph?expand=resize&expand=zip`, DASH), 400, /expand must be a string/, [
        field('expand', 'expand must be * or step names separated by commas', 'expand must be shorter than or equal to 2000 characters', 'expand must be a string'),
      ]);
      expectError(await a.get(`/tasker/tasks/${id}/graph?expand=resize,ghost`, DASH), 400, `Invalid request: expand names "ghost", which is not a step of task ${id}`, [
        field('expand', `expand names "ghost", which is not a step of task ${id}`),
      ]);
      expectError(await a.get(`/tasker/tasks/${id}/graph?colour=red`, DASH), 400, 'Invalid request: property colour should not exist', [
        field('colour', 'property colour should not exist'),
      ]);
      expectError(await a.get('/tasker/tasks/999999999/graph?expand=resize', DASH), 404, 'Task "999999999" does not exist.');
    });
  });

  it('graph of a skipped branch: the skipped nodes say why, edges stay', async () => {
    const id = await create('shipping', { express: false });
    await waitForTaskState(a, id, 'complete');
    const g = await graph(id);
    const byId = Object.fromEntries(g.nodes.map((n: Json) => [n.id, n]));
    expect(byId.express).toEqual({ id: 'express', state: 'skipped', attempts: 0, retryLimit: 3, reason: 'condition false' });
    expect(byId.track).toEqual({ id: 'track', state: 'skipped', attempts: 0, retryLimit: 3, reason: 'all parents skipped' });
    expect(byId.standard).toEqual({ id: 'standard', state: 'complete', attempts: 1, retryLimit: 3 });
    expect(g.edges).toContainEqual({ from: 'express', to: 'label' });
    expect(g.edges).toContainEqual({ from: 'express', to: 'track' });
    const lines = (g.mermaid as string).split('\n');
    expect(lines).toContain('  s1["express<br/>skipped<br/>condition false"]:::skipped');
    expect(lines).toContain('  s4["track<br/>skipped<br/>all parents skipped"]:::skipped');
    expect(lines.some((l) => l.startsWith('  classDef skipped '))).toBe(true);
  });

  it('graph of waiting steps: a signal wait and a child-task wait say what they wait for; the child names its parent', async () => {
    const approval = await create('approval', {});
    await stepIn(approval, 'ask', 'waiting');
    const ga = await graph(approval);
    expect(ga.nodes[0]).toEqual({
      id: 'ask',
      state: 'waiting',
      attempts: 1,
      retryLimit: 3,
      reason: 'waiting for signal "approved"',
      waitingFor: { kind: 'signal', name: 'approved' },
    });
    expect(ga.mermaid).toContain('  s0["ask<br/>waiting<br/>waiting for signal #34;approved#34;"]:::waiting');
    expect(ga.mermaid).toContain('  classDef waiting ');

    const order = await create('order', { amount: 12, gate: 'child-1' });
    const pay = await stepIn(order, 'pay', 'waiting');
    const child = pay.waitingFor.taskId as string;
    expect(pay.readiness.reason).toBe(`waiting for child task ${child}`);
    const go = await graph(order);
    expect(go.nodes[0]).toMatchObject({ id: 'pay', state: 'waiting', reason: `waiting for child task ${child}`, waitingFor: { kind: 'child', taskId: child } });
    expect(await detail(child)).toMatchObject({ name: 'payment', parentTaskId: order, parentStepName: 'pay' });
    gates.open('child-1');
    const done = await waitForTaskState(a, order, 'complete');
    expect(done.steps.find((s: Json) => s.name === 'pay').results).toEqual({ taskId: child, results: { charge: { charged: 12 } } });
    await a.post(`/tasker/tasks/${approval}/cancel`, { reason: 'test over' });
  });
});
