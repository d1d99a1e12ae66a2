import type { StepContext } from 'nestjs-tasker';
import { DependsOn, InvalidTransitionError, Step, TaskHandler, TaskerEvents, TaskNotFoundError, TaskValidationError } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { Latch, waitFor } from '../support/wait';
import { expectConsistentAuditTrail, expectTrailEndsWithTask } from '../support/audit-check';

/**
 * Signals (SPEC §8.3) at every point of a task's life: before the step waits (kept, delivered when
 * it does), during the wait, long after (the step already completed: refused; the task finished:
 * refused), and a wait that times out (WAIT_TIMEOUT, not retried), also with the signal arriving
 * at that very moment.
 */

/** Per task: `prep` waits for gates.prep, `tail` for gates.tail (when set). */
const gates = new Map<string, { prep?: Latch; tail?: Latch }>();

@TaskHandler({ name: 'approval', namespace: 'dsig', version: '1' })
class Approval {
  @Step()
  async prep(ctx: StepContext) {
    await gates.get(ctx.task.id)?.prep?.promise;
    return 'prepared';
  }

  @Step({ retryLimit: 3 })
  @DependsOn('prep')
  ask(ctx: StepContext) {
    return ctx.waitForSignal('approved');
  }

  @Step()
  @DependsOn('ask')
  pay(ctx: StepContext) {
    return { approvedBy: ctx.results['ask'] };
  }

  @Step()
  @DependsOn('pay')
  async tail(ctx: StepContext) {
    await gates.get(ctx.task.id)?.tail?.promise;
    return 'done';
  }
}

@TaskHandler({ name: 'timed', namespace: 'dsig', version: '1' })
class Timed {
  @Step({ retryLimit: 3 })
  ask(ctx: StepContext) {
    return ctx.waitForSignal('approved', { timeoutMs: 200 });
  }

  @Step()
  @DependsOn('ask')
  after(ctx: StepContext) {
    return { got: ctx.results['ask'] };
  }
}

/** Times out only when the test says so (it moves the timeout to now in the database). */
@TaskHandler({ name: 'timed_long', namespace: 'dsig', version: '1' })
class TimedLong {
  @Step({ retryLimit: 3 })
  ask(ctx: StepContext) {
    return ctx.waitForSignal('approved', { timeoutMs: 3_600_000 });
  }

  @Step()
  @DependsOn('ask')
  after(ctx: StepContext) {
    return { got: ctx.results['ask'] };
  }
}

describe('signals before, during and long after the wait', () => {
  const schema = uniqueSchema('dsig');
  let a: TestApp;

  beforeAll(async () => {
    a = await startApp(schema, [Approval, Timed, TimedLong]);
  });
  afterAll(async () => {
    await a?.close();
    if (!process.env.KEEP_SCHEMA) await dropSchema(schema);
  });

  const steps = async (id: string) => Object.fromEntries((await a.tasker.getTask(id)).steps.map((s) => [s.name, s]));
  const signalRow = (taskId: string, name: string) =>
    withClient(async (c) => {
      const { rows } = await c.query<{ delivered: boolean }>(
        `SELECT delivered_at IS NOT NULL AS delivered FROM "${schema}".signals WHERE task_id = $1 AND name = $2`,
        [taskId, name],
      );
      return rows[0];
    });
  const askTrail = async (id: string, step = 'ask') =>
    (await a.tasker.getAuditTrail(id)).filter((e) => e.stepName === step).map((e) => [e.from, e.to, e.attempt ?? null, e.actor ?? null, e.reason ?? null]);

  it('before the wait, while the task runs: the signal is kept, then delivered the moment the step waits', async () => {
    const prep = new Latch();
    const t = await a.tasker.createTask({ name: 'approval', namespace: 'dsig', context: {} });
    gates.set(t.id, { prep });
    await waitFor('prep to run', async () => (await steps(t.id)).prep.state === 'in_progress');

    await a.tasker.signal(t.id, 'approved', { by: 'early' }, { actor: 'alice', reason: 'pre-approved' });
    expect(await signalRow(t.id, 'approved')).toEqual({ delivered: false });
    expect((await steps(t.id)).ask.state).toBe('pending');
    prep.resolve();

    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(done.steps.find((s) => s.name === 'pay')!.results).toEqual({ approvedBy: { by: 'early' } });
    expect(await signalRow(t.id, 'approved')).toEqual({ delivered: true });
    const trail = await askTrail(t.id);
    expect(trail.map((e) => e.slice(0, 3))).toEqual([
      ['pending', 'in_progress', 1],
      ['in_progress', 'waiting', 1],
      ['waiting', 'complete', 1],
    ]);
    expect(trail[2].slice(3)).toEqual(['alice', 'signal "approved": pre-approved']);
    expectTrailEndsWithTask(await expectConsistentAuditTrail(a.tasker, done), 'complete');
    expect(a.events.filter((e) => e.event === TaskerEvents.SIGNAL_RECEIVED && e.taskId === t.id)).toEqual([
      expect.objectContaining({ signalName: 'approved', actor: 'alice', reason: 'pre-approved' }),
    ]);
  });

  it('during the wait: the step says what it waits for, and the signal completes it with its payload', async () => {
    const t = await a.tasker.createTask({ name: 'approval', namespace: 'dsig', context: {} });
    await waitFor('ask to wait', async () => (await steps(t.id)).ask.state === 'waiting');
    const ask = (await steps(t.id)).ask;
    expect(ask).toMatchObject({ attempts: 1, waitingFor: { kind: 'signal', name: 'approved' }, readiness: { reason: 'waiting for signal "approved"' } });
    expect((await a.tasker.getTask(t.id)).state).toBe('in_progress');

    const view = await a.tasker.signal(t.id, 'approved', 'yes', { actor: 'bob' });
    expect(view.id).toBe(t.id);
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(done.steps.find((s) => s.name === 'ask')).toMatchObject({ state: 'complete', attempts: 1, results: 'yes' });
    expect((await askTrail(t.id))[2]).toEqual(['waiting', 'complete', 1, 'bob', 'signal "approved"']);
    expectTrailEndsWithTask(await expectConsistentAuditTrail(a.tasker, done), 'complete');
  });

  it('long after: the step already completed by a signal → a second one is refused while the task still runs, and anything once it finished', async () => {
    const tail = new Latch();
    const t = await a.tasker.createTask({ name: 'approval', namespace: 'dsig', context: {} });
    gates.set(t.id, { tail });
    await waitFor('ask to wait', async () => (await steps(t.id)).ask.state === 'waiting');
    await a.tasker.signal(t.id, 'approved', 1, { actor: 'first' });
    await waitFor('tail to run', async () => (await steps(t.id)).tail.state === 'in_progress');
    const trailBefore = await a.tasker.getAuditTrail(t.id);

    const second = a.tasker.signal(t.id, 'approved', 2, { actor: 'second' });
    await expect(second).rejects.toBeInstanceOf(InvalidTransitionError);
    await expect(second).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    // The refused signal changed nothing.
    expect(await a.tasker.getAuditTrail(t.id)).toEqual(trailBefore);
    expect((await steps(t.id)).ask.results).toBe(1);

    tail.resolve();
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(done.steps.find((s) => s.name === 'pay')!.results).toEqual({ approvedBy: 1 });
    for (const name of ['approved', 'another']) {
      const late = a.tasker.signal(t.id, name, 3);
      await expect(late).rejects.toBeInstanceOf(InvalidTransitionError);
      await expect(late).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    }
    const trail = await expectConsistentAuditTrail(a.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    expect(a.events.filter((e) => e.event === TaskerEvents.SIGNAL_RECEIVED && e.taskId === t.id)).toHaveLength(1);

    // A cancelled task, an unknown one, a bad name.
    const c = await a.tasker.createTask({ name: 'approval', namespace: 'dsig', context: {} });
    await waitFor('ask to wait', async () => (await steps(c.id)).ask.state === 'waiting');
    await a.tasker.cancelTask(c.id, { actor: 'ops' });
    await expect(a.tasker.signal(c.id, 'approved', 1)).rejects.toBeInstanceOf(InvalidTransitionError);
    expect((await steps(c.id)).ask.state).toBe('cancelled');
    await expect(a.tasker.signal('987654321', 'approved', 1)).rejects.toBeInstanceOf(TaskNotFoundError);
    await expect(a.tasker.signal(c.id, '', 1)).rejects.toBeInstanceOf(TaskValidationError);
  });

  it('a signal that does not come in time: the step fails with WAIT_TIMEOUT, not retried; a signal sent later is kept for a retry', async () => {
    const t = await a.tasker.createTask({ name: 'timed', namespace: 'dsig', context: {} });
    const failed = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(failed.state).toBe('error');
    const ask = failed.steps.find((s) => s.name === 'ask')!;
    expect(ask).toMatchObject({ state: 'error', attempts: 1, lastError: { code: 'WAIT_TIMEOUT' } });
    expect(ask.nextRetryAt ?? null).toBeNull();
    const trail = await askTrail(t.id);
    expect(trail.map((e) => e.slice(0, 3))).toEqual([
      ['pending', 'in_progress', 1],
      ['in_progress', 'waiting', 1],
      ['waiting', 'in_progress', 1],
      ['in_progress', 'error', 1],
    ]);
    expect(trail[1][4]).toBe('waiting for signal "approved"');
    await expectConsistentAuditTrail(a.tasker, failed);

    // The task is in error, not finished: a signal is accepted and kept, and a retry's wait gets it.
    await a.tasker.signal(t.id, 'approved', 'late', { actor: 'carol' });
    expect(await signalRow(t.id, 'approved')).toEqual({ delivered: false });
    await a.tasker.retryTask(t.id, { actor: 'ops' });
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(done.steps.find((s) => s.name === 'after')!.results).toEqual({ got: 'late' });
    expectTrailEndsWithTask(await expectConsistentAuditTrail(a.tasker, done), 'complete');
  });

  it('a signal arriving as the wait times out (the timed-out step already taken back): it is kept, never lost, and a retry delivers it', async () => {
    const t = await a.tasker.createTask({ name: 'timed_long', namespace: 'dsig', context: {} });
    await waitFor('ask to wait', async () => (await steps(t.id)).ask.state === 'waiting');
    await withClient(async (holder) => {
      // Hold the task, then let the wait time out now: the worker takes the timed-out step back
      // (claims lock no task), then its failure waits for this lock; the signal queues behind it.
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".tasks WHERE id = $1 FOR UPDATE`, [t.id]);
      await withClient((c) => c.query(`UPDATE "${schema}".workflow_steps SET available_at = now() WHERE task_id = $1 AND name = 'ask'`, [t.id]));
      // Backends waiting behind this lock: directly, or queued behind the first waiter (a row's second waiter waits for the first).
      const blocked = async (n: number) => {
        const { rows } = await holder.query(
          `WITH b AS (SELECT pid, pg_blocking_pids(pid) AS bl FROM pg_stat_activity WHERE datname = current_database())
           SELECT pid FROM b WHERE pg_backend_pid() = ANY (bl) OR bl && ARRAY(SELECT pid FROM b WHERE pg_backend_pid() = ANY (bl))`,
        );
        return rows.length >= n;
      };
      await waitFor('the timed-out step to be taken back and its failure to wait for the task', async () => {
        const { rows } = await holder.query(`SELECT state FROM "${schema}".workflow_steps WHERE task_id = $1 AND name = 'ask'`, [t.id]);
        return rows[0].state === 'in_progress' && (await blocked(1));
      });
      const signal = a.tasker.signal(t.id, 'approved', 'just in time', { actor: 'dave' });
      signal.catch(() => undefined);
      await waitFor('the signal to wait for the task too', () => blocked(2));
      await holder.query('COMMIT');
      await signal;
    });
    const failed = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(failed.state).toBe('error');
    expect(failed.steps.find((s) => s.name === 'ask')).toMatchObject({ state: 'error', lastError: { code: 'WAIT_TIMEOUT' } });
    expect(await signalRow(t.id, 'approved')).toEqual({ delivered: false });
    await a.tasker.retryTask(t.id);
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(done.steps.find((s) => s.name === 'after')!.results).toEqual({ got: 'just in time' });
    expectTrailEndsWithTask(await expectConsistentAuditTrail(a.tasker, done), 'complete');
  });
});
