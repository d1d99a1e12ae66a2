import { PermanentError } from 'nestjs-tasker';
import { Behaviour, VariationsWorkflow } from '../fixtures/variations.workflow';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { AdminApp, DASH, expectError, startAdminApp, waitForTaskState } from '../support/admin-app';
import { dropSchema, uniqueSchema } from '../support/database';

type Json = Record<string, any>;

/**
 * The operator's recovery story, only through the HTTP API: two tasks fail on a step, the operator
 * finds them by filtering on state=error, diagnoses each from its detail, fixes one by retry and the
 * other by resolving the step, both complete, and the audit trail names the operator and the reasons.
 */
describe('admin API: an operator recovers failed workflows end to end', () => {
  const schema = uniqueSchema('adm_story');
  let a: AdminApp;
  let behaviour: Behaviour;
  let gatewayUp = false;
  let retried: string;
  let resolved: string;
  let healthy: string;

  beforeAll(async () => {
    a = await startAdminApp(schema, [Behaviour, VariationsWorkflow, LinearWorkflow]);
    behaviour = a.provider(Behaviour);
    behaviour.plan('gateway', 'work', (_ctx, normal) => {
      if (!gatewayUp) throw new Error('payment gateway down');
      return normal();
    });
    behaviour.plan('manual', 'work', () => {
      throw new PermanentError('needs a human', { code: 'MANUAL_REVIEW' });
    });
  });
  afterAll(async () => {
    await a?.close();
    await dropSchema(schema);
  });

  const stepOf = (d: Json, name: string) => d.steps.find((s: Json) => s.name === name) as Json;

  it('1. tasks are started through the API; two of them fail on a step', async () => {
    healthy = (await a.post('/tasker/tasks', { name: 'linear', namespace: 'scenarios', context: { x: 6 } })).body.id;
    retried = (await a.post('/tasker/tasks', { name: 'variations', namespace: 'variations', context: { x: 6, key: 'gateway' }, reason: 'order 1' })).body.id;
    resolved = (await a.post('/tasker/tasks', { name: 'variations', namespace: 'variations', context: { x: 6, key: 'manual' }, reason: 'order 2' })).body.id;
    await waitForTaskState(a, healthy, 'complete');
    await waitForTaskState(a, retried, 'error');
    await waitForTaskState(a, resolved, 'error');
  });

  it('2. the operator finds them with the list filter state=error, newest first', async () => {
    const page = await a.get('/tasker/tasks?state=error', DASH);
    expect(page.status).toBe(200);
    expect(page.body.items.map((t: Json) => [t.id, t.state, t.reason])).toEqual([
      [resolved, 'error', 'order 2'],
      [retried, 'error', 'order 1'],
    ]);
    expect(page.body.nextCursor).toBeNull();
  });

  it('3. the detail shows what went wrong: last error, attempts used, readiness of every step', async () => {
    const d = (await a.get(`/tasker/tasks/${retried}`, DASH)).body as Json;
    expect(stepOf(d, 'work')).toMatchObject({
      state: 'error',
      attempts: 4,
      retryLimit: 4,
      nextRetryAt: null,
      lastError: { name: 'Error', message: 'payment gateway down', stack: expect.stringContaining('Error: payment gateway down') },
      readiness: { ready: false, reason: 'attempts_exhausted' },
    });
    expect(stepOf(d, 'after_work')).toMatchObject({ state: 'pending', attempts: 0, readiness: { ready: false, reason: 'waiting_for_dependencies' } });
    expect(d.steps.filter((s: Json) => s.state === 'complete').map((s: Json) => s.name)).toEqual(['start', 'side', 'side_end']);
    const trail = (await a.get(`/tasker/tasks/${retried}/audit`, DASH)).body as Json[];
    expect(trail.filter((e) => e.stepName === 'work' && e.to === 'error').map((e) => [e.attempt, e.error.message])).toEqual([
      [1, 'payment gateway down'],
      [2, 'payment gateway down'],
      [3, 'payment gateway down'],
      [4, 'payment gateway down'],
    ]);

    const m = (await a.get(`/tasker/tasks/${resolved}`, DASH)).body as Json;
    expect(stepOf(m, 'work')).toMatchObject({
      state: 'error',
      attempts: 1,
      retryLimit: 4,
      lastError: { name: 'PermanentError', message: 'needs a human', code: 'MANUAL_REVIEW' },
      readiness: { ready: false, reason: 'attempts_exhausted' },
    });
    const graph = (await a.get(`/tasker/tasks/${resolved}/graph`, DASH)).body as Json;
    expect(graph.nodes.find((n: Json) => n.id === 'work')).toEqual({ id: 'work', state: 'error', attempts: 1, retryLimit: 4 });
    expect(graph.mermaid).toContain('["work<br/>error"]:::error');
  });

  it('4. a viewer key cannot act; the operator retries the first task after the fix and it completes', async () => {
    expectError(await a.post(`/tasker/tasks/${retried}/retry`, { reason: 'try' }, DASH), 403, 'API key "dash" has the viewer role; this action needs an operator key.');
    expect((await a.get(`/tasker/tasks/${retried}`)).body.state).toBe('error');

    gatewayUp = true;
    const res = await a.post(`/tasker/tasks/${retried}/retry`, { reason: 'gateway fixed' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: retried, state: expect.stringMatching(/^(pending|in_progress|complete)$/) });
    const done = await waitForTaskState(a, retried, 'complete');
    // lastError keeps the error of the earlier budget: the history stays visible after the fix.
    expect(stepOf(done, 'work')).toMatchObject({ state: 'complete', attempts: 1, retryLimit: 4, results: 46, lastError: { message: 'payment gateway down' } });
    expect(stepOf(done, 'after_work')).toMatchObject({ state: 'complete', results: 138 });
    // Completed steps never ran again; the failed one had a fresh budget.
    expect(behaviour.counts('gateway')).toEqual({ start: 1, side: 1, side_end: 1, work: 5, after_work: 1 });
  });

  it('5. the operator resolves the step of the second task by hand; its dependents use the given results', async () => {
    const res = await a.post(`/tasker/tasks/${resolved}/steps/work/resolve`, { results: 46, reason: 'charged by phone' });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(resolved);
    const done = await waitForTaskState(a, resolved, 'complete');
    expect(stepOf(done, 'work')).toMatchObject({ state: 'resolved_manually', results: 46, attempts: 1 });
    expect(stepOf(done, 'after_work')).toMatchObject({ state: 'complete', results: 138 });
    expect(behaviour.runsOf('manual', 'after_work').map((r) => r.results)).toEqual([{ work: 46 }]);
    expect(behaviour.counts('manual')).toEqual({ start: 1, side: 1, side_end: 1, work: 1, after_work: 1 });
  });

  it("6. the audit trail shows the operator's actions with the key's name as actor and the reason", async () => {
    const r1 = (await a.get(`/tasker/tasks/${retried}/audit`, DASH)).body as Json[];
    expect(r1.filter((e) => e.actor === 'alice').map((e) => [e.stepName, e.from, e.to, e.reason ?? null])).toEqual([
      [null, null, 'pending', 'order 1'],
      [null, 'error', 'pending', 'gateway fixed'],
      ['work', 'error', 'pending', 'gateway fixed'],
    ]);
    expect(r1[r1.length - 1]).toMatchObject({ stepName: null, from: 'in_progress', to: 'complete' });
    expect(r1.some((e) => e.actor === 'dash')).toBe(false);

    const r2 = (await a.get(`/tasker/tasks/${resolved}/audit`, DASH)).body as Json[];
    expect(r2.filter((e) => e.actor === 'alice').map((e) => [e.stepName, e.from, e.to, e.reason ?? null])).toEqual([
      [null, null, 'pending', 'order 2'],
      ['work', 'error', 'resolved_manually', 'charged by phone'],
      [null, 'error', 'in_progress', 'charged by phone'],
    ]);
    expect(r2[r2.length - 1]).toMatchObject({ stepName: null, to: 'complete' });
  });

  it('7. nothing is left in error; all three tasks are complete', async () => {
    expect((await a.get('/tasker/tasks?state=error', DASH)).body).toEqual({ items: [], nextCursor: null });
    const complete = (await a.get('/tasker/tasks?state=complete', DASH)).body.items.map((t: Json) => t.id);
    expect(complete).toEqual([resolved, retried, healthy]);
  });
});
