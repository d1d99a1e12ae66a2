import { Behaviour, untilAborted, VariationsWorkflow } from '../fixtures/variations.workflow';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { AdminApp, canonical, expectError, field, startAdminApp, waitForTaskState } from '../support/admin-app';
import { dropSchema, uniqueSchema } from '../support/database';
import { Latch, waitFor } from '../support/wait';

type Json = Record<string, any>;

/** Operator actions over HTTP: cancel and resolve succeed where legal; 409 for illegal transitions, 404, 400. Retry: see admin-recovery. */
describe('admin API: operator actions', () => {
  const schema = uniqueSchema('adm_act');
  let a: AdminApp;
  let behaviour: Behaviour;
  let completeId: string;
  let n = 0;
  const latches: Latch[] = [];

  beforeAll(async () => {
    a = await startAdminApp(schema, [Behaviour, VariationsWorkflow, LinearWorkflow]);
    behaviour = a.provider(Behaviour);
    completeId = (await a.post('/tasker/tasks', { name: 'linear', namespace: 'scenarios', context: { x: 6 } })).body.id;
    await waitForTaskState(a, completeId, 'complete');
  });
  afterAll(async () => {
    for (const l of latches) l.resolve();
    await a?.close();
    await dropSchema(schema);
  });

  const detail = async (id: string): Promise<Json> => (await a.get(`/tasker/tasks/${id}`)).body as Json;
  const stepState = async (id: string, name: string) => (await detail(id)).steps.find((s: Json) => s.name === name).state as string;

  /** A variations task whose `work` step is running and stays so until the returned latch opens. */
  async function withRunningWork(): Promise<{ id: string; key: string; release: Latch }> {
    const key = `blocked-${++n}`;
    const release = new Latch();
    latches.push(release);
    behaviour.plan(key, 'work', async (_ctx, normal) => {
      await release.promise;
      return normal();
    });
    const id = (await a.post('/tasker/tasks', { name: 'variations', namespace: 'variations', context: { x: 6, key } })).body.id as string;
    await waitFor('work to be running', async () => (await stepState(id, 'work')) === 'in_progress');
    return { id, key, release };
  }

  it('409 for retrying a task that is complete or still running', async () => {
    expectError(await a.post(`/tasker/tasks/${completeId}/retry`, { reason: 'again' }), 409, `Task ${completeId} is complete; only a task in error can be retried.`);
    const { id, release } = await withRunningWork();
    expectError(await a.post(`/tasker/tasks/${id}/retry`, {}), 409, `Task ${id} is in_progress; only a task in error can be retried.`);
    release.resolve();
    await waitForTaskState(a, id, 'complete');
  });

  it('resolving a running step is refused (409); a pending one is resolved with the given results and counts as done', async () => {
    const { id, release } = await withRunningWork();
    expectError(
      await a.post(`/tasker/tasks/${id}/steps/work/resolve`, { results: 1 }),
      409,
      `Step "work" of task ${id} is in_progress; only a pending, failed or waiting step can be resolved.`,
    );
    expect(await stepState(id, 'work')).toBe('in_progress');

    const ok = await a.post(`/tasker/tasks/${id}/steps/after_work/resolve`, { results: { total: 1000 }, reason: 'booked by hand' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id, state: 'in_progress' });
    expect((await detail(id)).steps.find((s: Json) => s.name === 'after_work')).toMatchObject({ state: 'resolved_manually', results: { total: 1000 } });
    release.resolve();
    const done = await waitForTaskState(a, id, 'complete');
    expect(done.steps.map((s: Json) => [s.name, s.state])).toContainEqual(['after_work', 'resolved_manually']);
    const trail = (await a.get(`/tasker/tasks/${id}/audit`)).body as Json[];
    expect(trail.filter((e) => e.actor === 'alice' && e.stepName)).toEqual([
      expect.objectContaining({ stepName: 'after_work', from: 'pending', to: 'resolved_manually', reason: 'booked by hand' }),
    ]);
  });

  it('stores results exactly as sent, keys named like Object.prototype members (__proto__, constructor, toString...) included, at any depth', async () => {
    const { id, release } = await withRunningWork();
    // Raw JSON text: a JSON.stringify of an object literal could not even hold an own "__proto__" key.
    const raw = '{"__proto__":{"polluted":1},"constructor":"c","toString":"t","valueOf":[1],"hasOwnProperty":null,"nested":{"__proto__":2,"isPrototypeOf":{"x":1}}}';
    const ok = await a.post(`/tasker/tasks/${id}/steps/after_work/resolve`).set('Content-Type', 'application/json').send(`{"results":${raw},"reason":"by hand"}`);
    expect(ok.status).toBe(200);
    const res = await a.get(`/tasker/tasks/${id}`);
    expect(canonical(JSON.parse(res.text).steps.find((s: Json) => s.name === 'after_work').results)).toEqual(canonical(JSON.parse(raw)));
    expect(({} as Json).polluted).toBeUndefined();
    release.resolve();
    await waitForTaskState(a, id, 'complete');
  });

  it('409 for resolving a step of a finished task; 404 for an unknown step or task', async () => {
    expectError(await a.post(`/tasker/tasks/${completeId}/steps/step_1/resolve`, {}), 409, `Task ${completeId} is complete; its steps can no longer be resolved.`);
    expectError(await a.post(`/tasker/tasks/${completeId}/steps/nope/resolve`, {}), 404, `Task "${completeId}" has no step named "nope".`);
    expectError(await a.post('/tasker/tasks/999999999/steps/step_1/resolve', {}), 404, 'Task "999999999" does not exist.');
    expectError(await a.post('/tasker/tasks/abc/steps/step_1/resolve', {}), 404, 'Task "abc" does not exist.');
    expectError(await a.post(`/tasker/tasks/${completeId}/steps/${'s'.repeat(129)}/resolve`, {}), 400, 'Invalid resolveStep input: stepName must be a step name', [
      field('stepName', 'must be a step name'),
    ]);
  });

  it('cancel: the running step sees its signal aborted, waiting steps are cancelled, the operator is the actor', async () => {
    const key = `cancel-${++n}`;
    const started = new Latch();
    behaviour.plan(key, 'work', untilAborted(() => started.resolve()));
    const id = (await a.post('/tasker/tasks', { name: 'variations', namespace: 'variations', context: { x: 6, key } })).body.id as string;
    await started.promise;

    const res = await a.post(`/tasker/tasks/${id}/cancel`, { reason: 'customer withdrew' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, state: 'cancelled' });
    await waitFor('the running attempt to finish', () => behaviour.runsOf(key, 'work')[0]?.finished);
    expect(behaviour.runsOf(key, 'work')[0].finished!.signalAborted).toBe(true);
    const d = await waitFor('the aborted step to settle', async () => {
      const x = await detail(id);
      return x.steps.every((s: Json) => s.state !== 'in_progress') ? x : undefined;
    });
    expect(d.state).toBe('cancelled');
    expect(d.steps.find((s: Json) => s.name === 'after_work').state).toBe('cancelled');
    expect(behaviour.runsOf(key, 'after_work')).toEqual([]);
    const trail = (await a.get(`/tasker/tasks/${id}/audit`)).body as Json[];
    expect(trail.filter((e) => e.stepName === null && e.to === 'cancelled')).toEqual([
      expect.objectContaining({ from: 'in_progress', actor: 'alice', reason: 'customer withdrew' }),
    ]);

    expectError(await a.post(`/tasker/tasks/${id}/cancel`, {}), 409, `Task ${id} is cancelled; it can no longer be cancelled.`);
    expectError(await a.post(`/tasker/tasks/${id}/retry`, {}), 409, `Task ${id} is cancelled; only a task in error can be retried.`);
  });

  it('409 for cancelling a complete task; 404 for unknown tasks on retry and cancel', async () => {
    expectError(await a.post(`/tasker/tasks/${completeId}/cancel`, {}), 409, `Task ${completeId} is complete; it can no longer be cancelled.`);
    for (const action of ['retry', 'cancel']) {
      expectError(await a.post(`/tasker/tasks/999999999/${action}`, {}), 404, 'Task "999999999" does not exist.');
      expectError(await a.post(`/tasker/tasks/12x/${action}`), 404, 'Task "12x" does not exist.');
    }
  });

  it('400 for bad action bodies: unknown fields, a reason that is not a string or too long, results too deep', async () => {
    for (const action of ['retry', 'cancel', 'steps/step_1/resolve']) {
      const path = `/tasker/tasks/${completeId}/${action}`;
      expectError(await a.post(path, { reason: 'ok', force: true }), 400, 'Invalid request: property force should not exist', [
        field('force', 'property force should not exist'),
      ]);
      expectError(await a.post(path, { reason: 42 }), 400, /reason must be a string/, [
        field('reason', 'reason must be shorter than or equal to 1000 characters', 'reason must be a string'),
      ]);
      expectError(await a.post(path, { reason: 'r'.repeat(1001) }), 400, 'Invalid request: reason must be shorter than or equal to 1000 characters', [
        field('reason', 'reason must be shorter than or equal to 1000 characters'),
      ]);
    }
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    expectError(await a.post(`/tasker/tasks/${completeId}/steps/step_1/resolve`, { results: deep }), 400, 'Invalid resolveStep input: results must not nest deeper than 64 levels', [
      field('results', 'must not nest deeper than 64 levels'),
    ]);
    expectError(await a.post(`/tasker/tasks/${completeId}/steps/step_1/resolve`, { results: 'a\u0000b' }), 400, /results must not contain NUL characters/, [
      field('results', 'must not contain NUL characters (\\u0000)'),
    ]);
    // The task was not touched by any of these.
    expect((await detail(completeId)).state).toBe('complete');
  });
});
