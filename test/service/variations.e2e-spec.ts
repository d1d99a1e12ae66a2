import { PermanentError, RetryableError, StepFailedPayload, TaskDetail, TaskerEvents } from 'nestjs-tasker';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { expectConsistentAuditTrail, expectTrailEndsWithTask } from '../support/audit-check';
import { BackoffWorkflow, Behaviour, failFirst, VariationsWorkflow } from '../fixtures/variations.workflow';

/** SCENARIOS.md variations: failures, retries and their timing values. Operator actions: variations-operator.e2e-spec.ts. */
describe('variations: failing steps', () => {
  const schema = uniqueSchema('var');
  let t: TestApp;
  let behaviour: Behaviour;
  let n = 0;

  beforeAll(async () => {
    t = await startApp(schema, [Behaviour, VariationsWorkflow, BackoffWorkflow]);
    behaviour = t.get(Behaviour);
  });
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
  });

  /** A fresh key; plans for it must be installed before the task is created. */
  const newKey = (label: string) => `${label}-${++n}`;

  async function runTask(key: string, name = 'variations'): Promise<TaskDetail> {
    const task = await t.tasker.createTask({ name, namespace: 'variations', context: { x: 6, key } });
    return t.tasker.waitForTask(task.id, { timeoutMs: 30_000 });
  }

  const step = (d: TaskDetail, name: string) => d.steps.find((s) => s.name === name)!;
  const failedEvents = (taskId: string, stepName: string) =>
    t.events.filter((e): e is StepFailedPayload => e.event === TaskerEvents.STEP_FAILED && e.taskId === taskId && e.stepName === stepName);

  it('a step that fails 3 times then succeeds: 4 attempts, task complete, audit trail of each failure', async () => {
    const key = newKey('fail3');
    behaviour.plan(key, 'work', failFirst(3));
    const done = await runTask(key);

    expect(done.state).toBe('complete');
    expect(step(done, 'work')).toMatchObject({ state: 'complete', attempts: 4, retryLimit: 4, results: 46 });
    expect(step(done, 'after_work')).toMatchObject({ state: 'complete', attempts: 1, results: 138 });
    expect(behaviour.runsOf(key, 'work').map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
    expect(behaviour.counts(key)).toEqual({ start: 1, work: 4, after_work: 1, side: 1, side_end: 1 });

    const failed = failedEvents(done.id, 'work');
    expect(failed.map((e) => [e.attempt, e.willRetry, e.error.message])).toEqual([
      [1, true, 'boom on attempt 1'],
      [2, true, 'boom on attempt 2'],
      [3, true, 'boom on attempt 3'],
    ]);
    for (const e of failed) expect(e.nextRetryAt).toBeInstanceOf(Date);
    // The module's backoff (baseMs 10, jitter 0): 10, 20, 40 ms after each failure, never more.
    failed.forEach((e, i) => expect(e.nextRetryAt!.getTime() - e.occurredAt.getTime()).toBeLessThanOrEqual(10 * 2 ** i + 25));

    const trail = await expectConsistentAuditTrail(t.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    expect(trail.filter((e) => e.stepName === 'work').map((e) => [e.from, e.to, e.attempt, e.error?.message ?? null])).toEqual([
      ['pending', 'in_progress', 1, null],
      ['in_progress', 'error', 1, 'boom on attempt 1'],
      ['error', 'in_progress', 2, null],
      ['in_progress', 'error', 2, 'boom on attempt 2'],
      ['error', 'in_progress', 3, null],
      ['in_progress', 'error', 3, 'boom on attempt 3'],
      ['error', 'in_progress', 4, null],
      ['in_progress', 'complete', 4, null],
    ]);
  });

  it('retry delays grow exponentially: nextRetryAt − occurredAt ≈ 200, 400, 800 ms (jitter 0)', async () => {
    const key = newKey('backoff');
    behaviour.plan(key, 'flaky', failFirst(3));
    const done = await runTask(key, 'backoff');
    expect(done.state).toBe('complete');
    expect(step(done, 'flaky')).toMatchObject({ attempts: 4, results: 42 });

    const gaps = failedEvents(done.id, 'flaky').map((e) => e.nextRetryAt!.getTime() - e.occurredAt.getTime());
    expect(gaps).toHaveLength(3);
    // nextRetryAt is computed when the attempt failed, occurredAt when the failure was stored a moment
    // later: each gap is its delay minus that moment. Values, not speed: the tolerance is generous.
    [200, 400, 800].forEach((delay, i) => {
      expect(gaps[i]).toBeLessThanOrEqual(delay + 25);
      expect(gaps[i]).toBeGreaterThan(delay - 150);
    });
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    expect(gaps[2]).toBeGreaterThan(gaps[1]);

    // No retry began before its time.
    const starts = t.events.filter((e) => e.event === TaskerEvents.STEP_STARTED && e.taskId === done.id);
    const failed = failedEvents(done.id, 'flaky');
    for (let i = 0; i < 3; i++) {
      const next = starts.find((s) => 'attempt' in s && s.attempt === i + 2)!;
      expect(next.occurredAt.getTime()).toBeGreaterThanOrEqual(failed[i].nextRetryAt!.getTime() - 25);
    }
    await expectConsistentAuditTrail(t.tasker, done);
  });

  it('a step that always fails: attempts exhausted, task error, dependents never run, the independent branch completes', async () => {
    const key = newKey('always');
    behaviour.plan(key, 'work', () => {
      throw new Error('always broken');
    });
    const done = await runTask(key);

    expect(done.state).toBe('error');
    expect(done.completedAt ?? null).toBeNull();
    expect(step(done, 'work')).toMatchObject({ state: 'error', attempts: 4, retryLimit: 4, nextRetryAt: null });
    expect(step(done, 'work').lastError).toMatchObject({ name: 'Error', message: 'always broken' });
    expect(step(done, 'after_work')).toMatchObject({ state: 'pending', attempts: 0, startedAt: null });
    expect(step(done, 'after_work').results ?? null).toBeNull();
    expect(step(done, 'side')).toMatchObject({ state: 'complete', results: 37 });
    expect(step(done, 'side_end')).toMatchObject({ state: 'complete', results: 74 });
    expect(behaviour.counts(key)).toEqual({ start: 1, work: 4, side: 1, side_end: 1 });

    const failed = failedEvents(done.id, 'work');
    expect(failed.map((e) => [e.attempt, e.willRetry])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);
    expect(failed[3].nextRetryAt).toBeUndefined();
    expect(t.events.filter((e) => e.taskId === done.id && e.event === TaskerEvents.TASK_FAILED)).toHaveLength(1);
    expect(t.events.filter((e) => e.taskId === done.id && e.event === TaskerEvents.TASK_COMPLETED)).toHaveLength(0);

    const trail = await expectConsistentAuditTrail(t.tasker, done);
    expectTrailEndsWithTask(trail, 'error');
    expect(trail.some((e) => e.stepName === 'after_work')).toBe(false);
  });

  it('a PermanentError is attempted once, recorded with its name, message and code', async () => {
    const key = newKey('permanent');
    behaviour.plan(key, 'work', () => {
      throw new PermanentError('card declined', { code: 'CARD_DECLINED' });
    });
    const done = await runTask(key);

    expect(done.state).toBe('error');
    expect(step(done, 'work')).toMatchObject({ state: 'error', attempts: 1, retryLimit: 4, nextRetryAt: null });
    expect(step(done, 'work').lastError).toMatchObject({ name: 'PermanentError', message: 'card declined', code: 'CARD_DECLINED' });
    expect(behaviour.counts(key)).toEqual({ start: 1, work: 1, side: 1, side_end: 1 });
    const failed = failedEvents(done.id, 'work');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attempt: 1, willRetry: false, error: { name: 'PermanentError', message: 'card declined', code: 'CARD_DECLINED' } });
    const trail = await expectConsistentAuditTrail(t.tasker, done);
    expectTrailEndsWithTask(trail, 'error');
    expect(trail.find((e) => e.stepName === 'work' && e.to === 'error')?.error).toEqual({
      name: 'PermanentError',
      message: 'card declined',
      code: 'CARD_DECLINED',
    });
  });

  it('a RetryableError with retryAfterMs is retried after that delay, not the backoff', async () => {
    const key = newKey('retry-after');
    behaviour.plan(key, 'work', failFirst(1, () => new RetryableError('rate limited', { retryAfterMs: 1_500, code: 'HTTP_429' })));
    const done = await runTask(key);

    expect(done.state).toBe('complete');
    expect(step(done, 'work')).toMatchObject({ state: 'complete', attempts: 2, results: 46 });
    const [failed] = failedEvents(done.id, 'work');
    expect(failed).toMatchObject({ attempt: 1, willRetry: true, error: { name: 'RetryableError', message: 'rate limited', code: 'HTTP_429' } });
    const gap = failed.nextRetryAt!.getTime() - failed.occurredAt.getTime();
    expect(Math.abs(gap - 1_500)).toBeLessThan(1_000);
    const second = t.events.find((e) => e.event === TaskerEvents.STEP_STARTED && e.taskId === done.id && e.stepName === 'work' && e.attempt === 2)!;
    expect(second.occurredAt.getTime()).toBeGreaterThanOrEqual(failed.nextRetryAt!.getTime() - 25);
    await expectConsistentAuditTrail(t.tasker, done);
  });

  it.each([
    ['a BigInt', () => ({ amount: BigInt(10) }), /BigInt/],
    [
      'a circular object',
      () => {
        const o: Record<string, unknown> = { name: 'loop' };
        o.self = o;
        return o;
      },
      /circular/i,
    ],
  ])('a step returning %s fails permanently with a clear error', async (_label, make, detail) => {
    const key = newKey('unserializable');
    behaviour.plan(key, 'work', () => make());
    const done = await runTask(key);

    expect(done.state).toBe('error');
    expect(step(done, 'work')).toMatchObject({ state: 'error', attempts: 1, nextRetryAt: null });
    const err = step(done, 'work').lastError!;
    expect(err).toMatchObject({ name: 'StepResultError', code: 'STEP_RESULT_INVALID' });
    expect(err.message).toMatch(/cannot be stored as JSON/);
    expect(err.message).toMatch(detail);
    expect(step(done, 'after_work').state).toBe('pending');
    expect(behaviour.counts(key).work).toBe(1);
    const failed = failedEvents(done.id, 'work');
    expect(failed.map((e) => [e.willRetry, e.error.code])).toEqual([[false, 'STEP_RESULT_INVALID']]);
    await expectConsistentAuditTrail(t.tasker, done);
  });

  it('a step throwing a non-Error (a string) is recorded as a failure and retried', async () => {
    const key = newKey('string-throw');
    behaviour.plan(key, 'work', failFirst(1, () => 'plain string failure'));
    const done = await runTask(key);

    expect(done.state).toBe('complete');
    expect(step(done, 'work')).toMatchObject({ state: 'complete', attempts: 2, results: 46 });
    const failed = failedEvents(done.id, 'work');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attempt: 1, willRetry: true, error: { name: 'NonErrorThrown' } });
    expect(failed[0].error.message).toContain('plain string failure');
    const trail = await expectConsistentAuditTrail(t.tasker, done);
    expect(trail.find((e) => e.stepName === 'work' && e.to === 'error')?.error?.message).toContain('plain string failure');
  });
});
