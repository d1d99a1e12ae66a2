import { PermanentError, StepFailedPayload, StepTimeoutError, TaskDetail, TaskerEvents } from 'nestjs-tasker';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { expectConsistentAuditTrail, expectTrailEndsWithTask } from '../support/audit-check';
import { Latch, waitFor } from '../support/wait';
import { Behaviour, TimeoutWorkflow, untilAborted, VariationsWorkflow } from '../fixtures/variations.workflow';

/** SCENARIOS.md variations that involve an operator (retry, resolve, cancel) or a timeout. */
describe('variations: operator actions and timeouts', () => {
  const schema = uniqueSchema('varop');
  let t: TestApp;
  let behaviour: Behaviour;
  let n = 0;

  beforeAll(async () => {
    t = await startApp(schema, [Behaviour, VariationsWorkflow, TimeoutWorkflow]);
    behaviour = t.get(Behaviour);
  });
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
  });

  const newKey = (label: string) => `${label}-${++n}`;
  const step = (d: TaskDetail, name: string) => d.steps.find((s) => s.name === name)!;
  const eventsOf = (taskId: string, event: string) => t.events.filter((e) => e.taskId === taskId && e.event === event);

  async function create(key: string, name = 'variations'): Promise<string> {
    const task = await t.tasker.createTask({ name, namespace: 'variations', context: { x: 6, key } });
    return task.id;
  }

  it('retryTask after a fix: only the failed step runs again, with a fresh attempt budget', async () => {
    const key = newKey('retry');
    let fixed = false;
    behaviour.plan(key, 'work', (_ctx, normal) => {
      if (!fixed) throw new Error('downstream unavailable');
      return normal();
    });
    const id = await create(key);
    const failed = await t.tasker.waitForTask(id, { timeoutMs: 30_000 });
    expect(failed.state).toBe('error');
    expect(step(failed, 'work')).toMatchObject({ state: 'error', attempts: 4 });
    expect(behaviour.counts(key)).toEqual({ start: 1, work: 4, side: 1, side_end: 1 });

    fixed = true;
    const view = await t.tasker.retryTask(id, { actor: 'alice', reason: 'downstream fixed' });
    expect(view.id).toBe(id);
    const done = await t.tasker.waitForTask(id, { timeoutMs: 30_000 });

    expect(done.state).toBe('complete');
    expect(step(done, 'work')).toMatchObject({ state: 'complete', attempts: 1, results: 46 });
    expect(step(done, 'after_work')).toMatchObject({ state: 'complete', attempts: 1, results: 138 });
    // Completed steps never ran again; the failed one ran once more, as attempt 1 of a new budget.
    expect(behaviour.counts(key)).toEqual({ start: 1, work: 5, after_work: 1, side: 1, side_end: 1 });
    expect(behaviour.runsOf(key, 'work').map((r) => r.attempt)).toEqual([1, 2, 3, 4, 1]);
    expect(behaviour.runsOf(key, 'after_work')[0].results).toEqual({ work: 46 });

    const trail = await expectConsistentAuditTrail(t.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    expect(trail.filter((e) => e.actor === 'alice').map((e) => [e.stepName, e.from, e.to, e.reason])).toEqual([
      [null, 'error', 'pending', 'downstream fixed'],
      ['work', 'error', 'pending', 'downstream fixed'],
    ]);
    expect(eventsOf(id, TaskerEvents.TASK_RETRY_REQUESTED)).toEqual([
      expect.objectContaining({ taskId: id, actor: 'alice', reason: 'downstream fixed' }),
    ]);
    expect(eventsOf(id, TaskerEvents.TASK_FAILED)).toHaveLength(1);
    expect(eventsOf(id, TaskerEvents.TASK_COMPLETED)).toHaveLength(1);
  });

  it('resolveStep on the failed step: dependents run with the given results, the task completes', async () => {
    const key = newKey('resolve');
    behaviour.plan(key, 'work', () => {
      throw new PermanentError('cannot be automated');
    });
    const id = await create(key);
    expect((await t.tasker.waitForTask(id, { timeoutMs: 30_000 })).state).toBe('error');

    await t.tasker.resolveStep(id, 'work', { results: 100, actor: 'bob', reason: 'done by hand' });
    const done = await t.tasker.waitForTask(id, { timeoutMs: 30_000 });

    expect(done.state).toBe('complete');
    expect(step(done, 'work')).toMatchObject({ state: 'resolved_manually', attempts: 1, results: 100 });
    expect(step(done, 'after_work')).toMatchObject({ state: 'complete', attempts: 1, results: 300 });
    expect(behaviour.runsOf(key, 'after_work').map((r) => r.results)).toEqual([{ work: 100 }]);
    expect(behaviour.counts(key)).toEqual({ start: 1, work: 1, after_work: 1, side: 1, side_end: 1 });

    const trail = await expectConsistentAuditTrail(t.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    expect(trail.filter((e) => e.stepName === 'work').map((e) => `${e.from}>${e.to}`)).toEqual([
      'pending>in_progress',
      'in_progress>error',
      'error>resolved_manually',
    ]);
    expect(trail.find((e) => e.to === 'resolved_manually')).toMatchObject({ actor: 'bob', reason: 'done by hand' });
    expect(eventsOf(id, TaskerEvents.STEP_RESOLVED_MANUALLY)).toEqual([
      expect.objectContaining({ stepName: 'work', actor: 'bob', reason: 'done by hand' }),
    ]);
  });

  it('cancel while a long step runs: the step sees its signal aborted, pending steps are cancelled, nothing else starts', async () => {
    const key = newKey('cancel');
    const started = new Latch();
    behaviour.plan(key, 'work', untilAborted(() => started.resolve()));
    const id = await create(key);
    await started.promise;
    // The independent branch finishes; `work` is still running.
    await waitFor('side_end to complete', async () => step(await t.tasker.getTask(id), 'side_end').state === 'complete');

    const view = await t.tasker.cancelTask(id, { actor: 'carol', reason: 'customer cancelled' });
    expect(view.state).toBe('cancelled');
    const settled = await waitFor('the running step to settle', async () => {
      const d = await t.tasker.getTask(id);
      return step(d, 'work').state !== 'in_progress' && d;
    });

    expect(settled.state).toBe('cancelled');
    expect(Object.fromEntries(settled.steps.map((s) => [s.name, s.state]))).toEqual({
      start: 'complete',
      work: 'cancelled',
      after_work: 'cancelled',
      side: 'complete',
      side_end: 'complete',
    });
    const [run] = behaviour.runsOf(key, 'work');
    expect(run.finished?.signalAborted).toBe(true);
    expect((run.finished?.signalReason as Error).name).toBe('TaskCancelledError');
    expect(behaviour.counts(key)).toEqual({ start: 1, work: 1, side: 1, side_end: 1 });
    expect((await t.tasker.waitForTask(id, { timeoutMs: 1_000 })).state).toBe('cancelled');

    const trail = await expectConsistentAuditTrail(t.tasker, settled);
    expect(trail.filter((e) => e.stepName === null).map((e) => e.to)).toEqual(['pending', 'in_progress', 'cancelled']);
    expect(trail.find((e) => e.stepName === null && e.to === 'cancelled')).toMatchObject({ actor: 'carol', reason: 'customer cancelled' });
    expect(eventsOf(id, TaskerEvents.TASK_CANCELLED)).toHaveLength(1);
    expect(eventsOf(id, TaskerEvents.STEP_CANCELLED).map((e) => ('stepName' in e ? e.stepName : '')).sort()).toEqual(['after_work', 'work']);
    expect(eventsOf(id, TaskerEvents.TASK_COMPLETED)).toHaveLength(0);
  });

  it('timeoutMs is enforced: the signal aborts, the attempt fails with STEP_TIMEOUT and is retried', async () => {
    const key = newKey('timeout');
    behaviour.plan(key, 'slow', (ctx, normal) => (ctx.step.attempt === 1 ? untilAborted()(ctx, normal) : normal()));
    const id = await create(key, 'timeouts');
    const done = await t.tasker.waitForTask(id, { timeoutMs: 30_000 });

    expect(done.state).toBe('complete');
    expect(step(done, 'slow')).toMatchObject({ state: 'complete', attempts: 2, timeoutMs: 300, results: 7 });
    expect(step(done, 'after_slow')).toMatchObject({ state: 'complete', results: 70 });
    const first = behaviour.runsOf(key, 'slow')[0];
    expect(first.finished?.signalAborted).toBe(true);
    expect(first.finished?.signalReason).toBeInstanceOf(StepTimeoutError);

    const failed = eventsOf(id, TaskerEvents.STEP_FAILED) as StepFailedPayload[];
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      stepName: 'slow',
      attempt: 1,
      willRetry: true,
      error: { name: 'StepTimeoutError', code: 'STEP_TIMEOUT', message: 'Step timed out after 300 ms.' },
    });
    const trail = await expectConsistentAuditTrail(t.tasker, done);
    expect(trail.find((e) => e.stepName === 'slow' && e.to === 'error')?.error).toMatchObject({ name: 'StepTimeoutError', code: 'STEP_TIMEOUT' });
  });

  it('a step that times out on every attempt exhausts its attempts with STEP_TIMEOUT', async () => {
    const key = newKey('timeout-always');
    behaviour.plan(key, 'slow', untilAborted());
    const id = await create(key, 'timeouts');
    const done = await t.tasker.waitForTask(id, { timeoutMs: 30_000 });
    expect(done.state).toBe('error');
    expect(step(done, 'slow')).toMatchObject({ state: 'error', attempts: 3 });
    expect(step(done, 'slow').lastError).toMatchObject({ code: 'STEP_TIMEOUT' });
    expect(step(done, 'after_slow').state).toBe('pending');
    expect(behaviour.runsOf(key, 'slow').map((r) => r.finished?.signalReason instanceof StepTimeoutError)).toEqual([true, true, true]);
    await expectConsistentAuditTrail(t.tasker, done);
  });
});

describe('variations: a step that ignores its signal', () => {
  const schema = uniqueSchema('varsig');
  let t: TestApp;
  let behaviour: Behaviour;
  const hold = new Latch();

  beforeAll(async () => {
    // One step at a time: if the stuck attempt kept its slot, nothing else could run.
    t = await startApp(schema, [Behaviour, VariationsWorkflow, TimeoutWorkflow], { worker: { concurrency: 1 } });
    behaviour = t.get(Behaviour);
  });
  afterAll(async () => {
    hold.resolve();
    await t?.close();
    await dropSchema(schema);
  });

  it('past its timeout does not block the worker: the attempt fails, the retry and other tasks run', async () => {
    behaviour.plan('stuck', 'slow', (ctx, normal) => (ctx.step.attempt === 1 ? hold.promise.then(() => 'too late') : normal()));
    const stuck = await t.tasker.createTask({ name: 'timeouts', namespace: 'variations', context: { x: 6, key: 'stuck' } });
    const other = await t.tasker.createTask({ name: 'variations', namespace: 'variations', context: { x: 6, key: 'other' } });

    const [a, b] = await Promise.all([t.tasker.waitForTask(stuck.id, { timeoutMs: 30_000 }), t.tasker.waitForTask(other.id, { timeoutMs: 30_000 })]);
    expect(a.state).toBe('complete');
    expect(a.steps.map((s) => [s.name, s.state, s.attempts, s.results])).toEqual([
      ['slow', 'complete', 2, 7],
      ['after_slow', 'complete', 1, 70],
    ]);
    expect(a.steps[0].lastError).toMatchObject({ code: 'STEP_TIMEOUT' });
    expect(b.state).toBe('complete');
    // All of it happened while the first attempt was still stuck.
    expect(hold.opened).toBe(false);
    expect(behaviour.runsOf('stuck', 'slow')[0].finished).toBeUndefined();

    // Once it finally returns, its late result is ignored.
    hold.resolve();
    await waitFor('the stuck attempt to return', () => behaviour.runsOf('stuck', 'slow')[0].finished !== undefined);
    const after = await t.tasker.getTask(stuck.id);
    expect(after.steps.map((s) => [s.state, s.attempts, s.results])).toEqual([
      ['complete', 2, 7],
      ['complete', 1, 70],
    ]);
    await expectConsistentAuditTrail(t.tasker, after);
  });
});
