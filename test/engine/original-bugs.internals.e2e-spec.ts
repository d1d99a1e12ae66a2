// Internals: TaskerWorker's owner id, to tell which of two processes ran or cancelled a step.
import { InvalidTransitionError, PermanentError, RetryableError, StepTimeoutError, TaskDetail, TaskerEventPayload, TaskerEvents } from 'nestjs-tasker';
import { TaskerWorker } from '../../libs/tasker/src/orchestration/tasker.worker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { expectConsistentAuditTrail } from '../support/audit-check';
import { Latch, waitFor } from '../support/wait';
import { Behaviour, failFirst, OneShotWorkflow, TimeoutWorkflow, untilAborted, VariationsWorkflow } from '../fixtures/variations.workflow';

/**
 * DESIGN.md "Lessons from the original Tasker": one test per bug of the Rails original, each
 * proving this engine does not have it.
 */
const step = (d: TaskDetail, name: string) => d.steps.find((s) => s.name === name)!;
const stepOf = (e: TaskerEventPayload) => ('stepName' in e ? e.stepName : undefined);
const attemptOf = (e: TaskerEventPayload) => ('attempt' in e ? e.attempt : undefined);

describe('bugs of the original Tasker, one process', () => {
  const schema = uniqueSchema('orig');
  let t: TestApp;
  let behaviour: Behaviour;

  beforeAll(async () => {
    t = await startApp(schema, [Behaviour, VariationsWorkflow, OneShotWorkflow, TimeoutWorkflow]);
    behaviour = t.get(Behaviour);
  });
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
  });

  async function run(key: string, name = 'variations'): Promise<TaskDetail> {
    const task = await t.tasker.createTask({ name, namespace: 'variations', context: { x: 6, key } });
    return t.tasker.waitForTask(task.id, { timeoutMs: 30_000 });
  }

  /** A later task completing is the barrier that the worker went on working (no fixed sleep). */
  async function workerWentOn(): Promise<void> {
    expect((await run(`barrier-${Date.now()}-${Math.random()}`)).state).toBe('complete');
  }

  it('a failed step becomes runnable again by itself: retried without any operator', async () => {
    behaviour.plan('auto', 'work', failFirst(1, () => new RetryableError('try later', { retryAfterMs: 400 })));
    const task = await t.tasker.createTask({ name: 'variations', namespace: 'variations', context: { x: 6, key: 'auto' } });
    // While it waits for its retry, the step is in error with a retry time, and the task is not.
    const waiting = await waitFor('work to wait for its retry', async () => {
      const d = await t.tasker.getTask(task.id);
      return step(d, 'work').state === 'error' && d;
    });
    expect(waiting.state).toBe('in_progress');
    expect(step(waiting, 'work').nextRetryAt).toBeInstanceOf(Date);
    expect(step(waiting, 'work').readiness).toMatchObject({ ready: false, reason: 'waiting_for_retry' });

    const done = await t.tasker.waitForTask(task.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('complete');
    expect(step(done, 'work')).toMatchObject({ state: 'complete', attempts: 2, results: 46 });
    const trail = await expectConsistentAuditTrail(t.tasker, done);
    expect(trail.filter((e) => e.stepName === 'work').map((e) => `${e.from}>${e.to}`)).toEqual([
      'pending>in_progress',
      'in_progress>error',
      'error>in_progress',
      'in_progress>complete',
    ]);
    // Nobody but workers acted: no operator retry.
    expect(trail.filter((e) => e.actor !== undefined && !e.actor.startsWith('worker:'))).toEqual([]);
    expect(t.events.filter((e) => e.taskId === task.id && e.event === TaskerEvents.TASK_RETRY_REQUESTED)).toHaveLength(0);
  });

  it('a retryable: false step does run, exactly once', async () => {
    const done = await run('one-shot-ok', 'one_shot');
    expect(done.state).toBe('complete');
    expect(step(done, 'once')).toMatchObject({ state: 'complete', attempts: 1, retryable: false, retryLimit: 1, results: 18 });
    expect(step(done, 'after_once')).toMatchObject({ state: 'complete', results: 19 });
    expect(behaviour.counts('one-shot-ok')).toEqual({ once: 1, after_once: 1 });

    behaviour.plan('one-shot-fail', 'once', () => {
      throw new Error('transient, but the step is not retryable');
    });
    const failed = await run('one-shot-fail', 'one_shot');
    expect(failed.state).toBe('error');
    expect(step(failed, 'once')).toMatchObject({ state: 'error', attempts: 1, nextRetryAt: null });
    expect(step(failed, 'after_once').state).toBe('pending');
    const ev = t.events.filter((e) => e.taskId === failed.id && e.event === TaskerEvents.STEP_FAILED);
    expect(ev).toEqual([expect.objectContaining({ stepName: 'once', attempt: 1, willRetry: false })]);
    await workerWentOn();
    expect(behaviour.counts('one-shot-fail')).toEqual({ once: 1 });
  });

  it('a PermanentError is never retried, even with attempts left', async () => {
    behaviour.plan('perm', 'work', () => {
      throw new PermanentError('invalid account', { code: 'INVALID_ACCOUNT' });
    });
    const done = await run('perm');
    expect(done.state).toBe('error');
    expect(step(done, 'work')).toMatchObject({ state: 'error', attempts: 1, retryLimit: 4, nextRetryAt: null });
    expect(step(done, 'work').readiness).toMatchObject({ ready: false, reason: 'attempts_exhausted' });
    await workerWentOn();
    expect(behaviour.counts('perm').work).toBe(1);
    expect((await t.tasker.getTask(done.id)).steps.find((s) => s.name === 'work')).toMatchObject({ state: 'error', attempts: 1 });
  });

  it('a step caught up in a cancellation (locked while the task was cancelled) never runs', async () => {
    const task = await t.tasker.createTask({
      name: 'variations',
      namespace: 'variations',
      context: { x: 6, key: 'cancel-race' },
      runAt: new Date(Date.now() + 1_000),
    });
    // Hold the root step's row lock, as a claim in progress does, while the task is cancelled.
    await withClient(async (c) => {
      await c.query('BEGIN');
      const locked = await c.query(`SELECT id FROM "${schema}".workflow_steps WHERE task_id = $1 AND name = 'start' FOR UPDATE`, [task.id]);
      expect(locked.rowCount).toBe(1);
      expect((await t.tasker.cancelTask(task.id, { actor: 'ops' })).state).toBe('cancelled');
      await c.query('COMMIT');
    });
    const settled = await waitFor('the skipped step to settle', async () => {
      const d = await t.tasker.getTask(task.id);
      return !['pending', 'in_progress'].includes(step(d, 'start').state) && d;
    });
    expect(settled.state).toBe('cancelled');
    expect(settled.steps.map((s) => s.state)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(behaviour.counts('cancel-race')).toEqual({});
    await expectConsistentAuditTrail(t.tasker, settled);
  });

  it('step events are published exactly once per transition, retries included', async () => {
    behaviour.plan('once-each', 'work', failFirst(2));
    const done = await run('once-each');
    expect(done.state).toBe('complete');
    const events = t.events.filter((e) => e.taskId === done.id);
    const keys = events.map((e) => `${e.event}|${stepOf(e) ?? ''}|${attemptOf(e) ?? ''}`);
    expect(new Set(keys).size).toBe(keys.length);
    const count = (event: string, name: string) => events.filter((e) => e.event === event && stepOf(e) === name).length;
    for (const s of done.steps) {
      expect([count(TaskerEvents.STEP_STARTED, s.name), count(TaskerEvents.STEP_FAILED, s.name), count(TaskerEvents.STEP_COMPLETED, s.name)]).toEqual([
        s.attempts,
        s.attempts - 1,
        1,
      ]);
    }
    expect(step(done, 'work').attempts).toBe(3);
    for (const e of [TaskerEvents.TASK_CREATED, TaskerEvents.TASK_STARTED, TaskerEvents.TASK_COMPLETED]) {
      expect(events.filter((x) => x.event === e)).toHaveLength(1);
    }
    expect(events).toHaveLength(1 + 1 + 5 + 2 + 2 + 5 + 1);
  });

  it('timeouts are enforced, not only stored', async () => {
    behaviour.plan('timeout', 'slow', untilAborted());
    const done = await run('timeout', 'timeouts');
    expect(done.state).toBe('error');
    expect(step(done, 'slow')).toMatchObject({ state: 'error', attempts: 3, timeoutMs: 300 });
    expect(step(done, 'slow').lastError).toMatchObject({ name: 'StepTimeoutError', code: 'STEP_TIMEOUT' });
    expect(behaviour.runsOf('timeout', 'slow').map((r) => r.finished?.signalReason instanceof StepTimeoutError)).toEqual([true, true, true]);
  });
});

describe('bugs of the original Tasker, two processes on one schema', () => {
  const schema = uniqueSchema('orig2');
  const shared = new Behaviour();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const providers = [{ provide: Behaviour, useValue: shared }, VariationsWorkflow];
    a = await startApp(schema, providers, { worker: { concurrency: 3 } });
    b = await startApp(schema, providers, { worker: { concurrency: 3 } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await dropSchema(schema);
  });

  it('a step is claimed before it runs: two workers never run one attempt twice', async () => {
    // Steps take a moment, so both workers are busy at once.
    shared.plan('race', '*', async (_ctx, normal) => {
      await new Promise((r) => setTimeout(r, 3));
      return normal();
    });
    const created = await a.tasker.createTasks(Array.from({ length: 30 }, () => ({ name: 'variations', namespace: 'variations', context: { x: 6, key: 'race' } })));
    const done = await Promise.all(created.map((k) => a.tasker.waitForTask(k.id, { timeoutMs: 60_000 })));

    for (const d of done) {
      expect(d.state).toBe('complete');
      expect(Object.fromEntries(d.steps.map((s) => [s.name, [s.attempts, s.results]]))).toEqual({
        start: [1, 36],
        work: [1, 46],
        after_work: [1, 138],
        side: [1, 37],
        side_end: [1, 74],
      });
    }
    // Every (task, step) ran exactly once across both processes.
    const perStep = new Map<string, number>();
    for (const r of shared.runsOf('race')) perStep.set(`${r.taskId}/${r.step}`, (perStep.get(`${r.taskId}/${r.step}`) ?? 0) + 1);
    expect(perStep.size).toBe(30 * 5);
    expect([...perStep.values()].every((n) => n === 1)).toBe(true);

    // Both workers took part, and across both, each step event was emitted exactly once.
    const ids = new Set(done.map((d) => d.id));
    const all = [...a.events, ...b.events].filter((e) => ids.has(e.taskId));
    const starts = all.filter((e) => e.event === TaskerEvents.STEP_STARTED);
    expect(starts).toHaveLength(150);
    expect(new Set(starts.map((e) => e.actor))).toEqual(new Set([a.get(TaskerWorker).owner, b.get(TaskerWorker).owner]));
    for (const event of [TaskerEvents.STEP_STARTED, TaskerEvents.STEP_COMPLETED]) {
      const keys = all.filter((e) => e.event === event).map((e) => `${e.taskId}/${stepOf(e)}`);
      expect(keys).toHaveLength(150);
      expect(new Set(keys).size).toBe(150);
    }
    for (const event of [TaskerEvents.TASK_CREATED, TaskerEvents.TASK_STARTED, TaskerEvents.TASK_COMPLETED]) {
      const keys = all.filter((e) => e.event === event).map((e) => e.taskId);
      expect(keys).toHaveLength(30);
      expect(new Set(keys).size).toBe(30);
    }
    for (const d of done.slice(0, 3)) await expectConsistentAuditTrail(a.tasker, d);
  });

  it('cancelling from another process cancels the steps; the cancelled task is terminal, not stuck', async () => {
    const running = new Latch();
    shared.plan('cancel-remote', 'work', untilAborted(() => running.resolve()));
    shared.plan('cancel-remote', 'side', untilAborted());
    const task = await a.tasker.createTask({ name: 'variations', namespace: 'variations', context: { x: 6, key: 'cancel-remote' } });
    await running.promise;
    await waitFor('side to run too', () => shared.runsOf('cancel-remote', 'side').length === 1);

    // Cancel through whichever process did not run `work`: the other one learns through NOTIFY.
    const workerOfWork = [...a.events, ...b.events].find((e) => e.taskId === task.id && stepOf(e) === 'work')!.actor;
    const operator = workerOfWork === a.get(TaskerWorker).owner ? b : a;
    expect((await operator.tasker.cancelTask(task.id, { actor: 'ops', reason: 'stop' })).state).toBe('cancelled');

    const settled = await waitFor('no step left running', async () => {
      const d = await a.tasker.getTask(task.id);
      return d.steps.every((s) => s.state !== 'in_progress') && d;
    });
    expect(settled.state).toBe('cancelled');
    expect(Object.fromEntries(settled.steps.map((s) => [s.name, s.state]))).toEqual({
      start: 'complete',
      work: 'cancelled',
      after_work: 'cancelled',
      side: 'cancelled',
      side_end: 'cancelled',
    });
    // Each step ran once; both running steps saw their signal aborted, wherever they ran.
    expect(Object.fromEntries(shared.runsOf('cancel-remote').map((r) => [r.step, r.finished?.signalAborted ?? 'still running']))).toEqual({
      start: false,
      work: true,
      side: true,
    });
    expect(shared.runsOf('cancel-remote')).toHaveLength(3);
    expect((await b.tasker.waitForTask(task.id, { timeoutMs: 1_000 })).state).toBe('cancelled');
    for (const action of [
      () => operator.tasker.cancelTask(task.id),
      () => operator.tasker.retryTask(task.id),
      () => operator.tasker.resolveStep(task.id, 'after_work', { results: 1 }),
    ]) {
      await expect(action()).rejects.toBeInstanceOf(InvalidTransitionError);
    }
    await expectConsistentAuditTrail(a.tasker, settled);
  });
});
