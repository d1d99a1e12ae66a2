import type { StepContext, TaskDetail } from 'nestjs-tasker';
import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';
import { expectConsistentAuditTrail, expectTrailEndsWithTask } from '../support/audit-check';

/**
 * Child tasks (SPEC §8.3) through failure, retry and cancellation, with the audit trail of every
 * task involved: a failed child retried through its parent; a parent cancelled while its child
 * (and grandchild) run; a child cancelled on its own, then its parent retried.
 */

/** How dkid/charge behaves, by amount: fails while failing has it. */
const failing = new Set<number>();
/** Running attempts that saw their signal abort: `${taskId}/${step}` → the abort reason's name. */
const aborted = new Map<string, string>();
const running = new Set<string>();

/** Runs until its signal aborts (a step that honours its signal), recording why. */
function untilAborted(ctx: StepContext): Promise<never> {
  const key = `${ctx.task.id}/${ctx.step.name}`;
  running.add(key);
  return new Promise((_, reject) => {
    ctx.signal.addEventListener(
      'abort',
      () => {
        aborted.set(key, (ctx.signal.reason as Error)?.name ?? String(ctx.signal.reason));
        reject(ctx.signal.reason);
      },
      { once: true },
    );
  });
}

@TaskHandler({ name: 'order', namespace: 'dkid', version: '1' })
class Order {
  @Step()
  pay(ctx: StepContext<{ amount: number }>) {
    return ctx.startChild({ name: 'charge', namespace: 'dkid', context: { amount: ctx.task.context.amount }, tags: ['child'] });
  }

  @Step()
  @DependsOn('pay')
  ship(ctx: StepContext) {
    return { paid: ctx.results['pay'] };
  }
}

@TaskHandler({ name: 'charge', namespace: 'dkid', version: '1' })
class Charge {
  @Step({ retryLimit: 2 })
  charge(ctx: StepContext<{ amount: number }>) {
    if (failing.has(ctx.task.context.amount)) throw new Error(`card declined for ${ctx.task.context.amount}`);
    return { charged: ctx.task.context.amount };
  }
}

/** parent → its step `sub` starts dkid/middle, whose `work` runs until aborted and whose `nested` starts dkid/leaf. */
@TaskHandler({ name: 'outer', namespace: 'dkid', version: '1' })
class Outer {
  @Step()
  sub(ctx: StepContext) {
    return ctx.startChild({ name: 'middle', namespace: 'dkid', context: {} });
  }

  @Step()
  @DependsOn('sub')
  after() {
    return 'never';
  }
}

@TaskHandler({ name: 'middle', namespace: 'dkid', version: '1' })
class Middle {
  @Step()
  work(ctx: StepContext) {
    return untilAborted(ctx);
  }

  @Step()
  nested(ctx: StepContext) {
    return ctx.startChild({ name: 'leaf', namespace: 'dkid', context: {} });
  }
}

@TaskHandler({ name: 'leaf', namespace: 'dkid', version: '1' })
class Leaf {
  @Step()
  spin(ctx: StepContext) {
    return untilAborted(ctx);
  }
}

describe('child tasks through failure, retry and cancellation', () => {
  const schema = uniqueSchema('dkid');
  let a: TestApp;

  beforeAll(async () => {
    a = await startApp(schema, [Order, Charge, Outer, Middle, Leaf]);
  });
  afterAll(async () => {
    await a?.close();
    if (!process.env.KEEP_SCHEMA) await dropSchema(schema);
  });

  const childrenOf = async (id: string) =>
    withClient(async (c) => (await c.query<{ id: string }>(`SELECT id::text FROM "${schema}".tasks WHERE parent_task_id = $1 ORDER BY id`, [id])).rows.map((r) => r.id));
  const stepTrail = async (id: string, step: string) =>
    (await a.tasker.getAuditTrail(id)).filter((e) => e.stepName === step).map((e) => [e.from, e.to, e.actor ?? null, e.error?.code ?? null]);
  const taskTrail = async (id: string) => (await a.tasker.getAuditTrail(id)).filter((e) => !e.stepName).map((e) => [e.from, e.to, e.actor ?? null, e.reason ?? null]);
  const stepOf = (t: TaskDetail, name: string) => t.steps.find((s) => s.name === name)!;

  it('a child that fails: its parent’s step fails (CHILD_TASK_FAILED, not retried); retryTask(parent) retries the same child, the step waits again and completes', async () => {
    failing.add(13);
    const t = await a.tasker.createTask({ name: 'order', namespace: 'dkid', context: { amount: 13 } });
    const failed = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(failed.state).toBe('error');
    expect(stepOf(failed, 'pay')).toMatchObject({ state: 'error', attempts: 1, lastError: { code: 'CHILD_TASK_FAILED' } });
    expect(stepOf(failed, 'ship').state).toBe('pending');
    const [childId, ...more] = await childrenOf(t.id);
    expect(more).toEqual([]);
    const child = await a.tasker.getTask(childId);
    expect(child).toMatchObject({ state: 'error', parentTaskId: t.id, parentStepName: 'pay', tags: ['child'] });
    expect(stepOf(child, 'charge')).toMatchObject({ state: 'error', attempts: 2 });
    await expectConsistentAuditTrail(a.tasker, failed);
    await expectConsistentAuditTrail(a.tasker, child);

    failing.delete(13);
    await a.tasker.retryTask(t.id, { actor: 'ops', reason: 'card replaced' });
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(await childrenOf(t.id)).toEqual([childId]); // the same child, not a new one
    expect(stepOf(done, 'pay')).toMatchObject({ state: 'complete', attempts: 1, results: { taskId: childId, results: { charge: { charged: 13 } } } });
    expect(stepOf(done, 'ship').results).toEqual({ paid: { taskId: childId, results: { charge: { charged: 13 } } } });
    const childDone = await a.tasker.getTask(childId);
    expect(childDone.state).toBe('complete');
    expect(stepOf(childDone, 'charge')).toMatchObject({ state: 'complete', attempts: 1 });

    // Both trails: consistent, and telling the story.
    expectTrailEndsWithTask(await expectConsistentAuditTrail(a.tasker, done), 'complete');
    expectTrailEndsWithTask(await expectConsistentAuditTrail(a.tasker, childDone), 'complete');
    const pay = await stepTrail(t.id, 'pay');
    expect(pay.map((e) => [e[0], e[1], e[3]])).toEqual([
      ['pending', 'in_progress', null],
      ['in_progress', 'waiting', null],
      ['waiting', 'in_progress', null],
      ['in_progress', 'error', 'CHILD_TASK_FAILED'],
      ['error', 'waiting', null],
      ['waiting', 'in_progress', null],
      ['in_progress', 'complete', null],
    ]);
    expect(pay[4][2]).toBe('ops');
    expect(await taskTrail(t.id)).toEqual([
      [null, 'pending', null, null],
      ['pending', 'in_progress', expect.any(String), null],
      ['in_progress', 'error', null, null],
      ['error', 'pending', 'ops', 'card replaced'],
      ['pending', 'in_progress', expect.any(String), null],
      ['in_progress', 'complete', null, null],
    ]);
    const childTrail = await taskTrail(childId);
    expect(childTrail.map((e) => [e[0], e[1]])).toEqual([
      [null, 'pending'],
      ['pending', 'in_progress'],
      ['in_progress', 'error'],
      ['error', 'pending'],
      ['pending', 'in_progress'],
      ['in_progress', 'complete'],
    ]);
    expect(childTrail[3].slice(2)).toEqual(['ops', 'card replaced']);
  });

  it('cancelling a parent whose child and grandchild run: all three are cancelled, the running steps see their signal aborted, the waiting steps are cancelled', async () => {
    const t = await a.tasker.createTask({ name: 'outer', namespace: 'dkid', context: {} });
    const [middleId] = await waitFor('the child', async () => ((await childrenOf(t.id)).length === 1 ? childrenOf(t.id) : undefined));
    const [leafId] = await waitFor('the grandchild', async () => ((await childrenOf(middleId)).length === 1 ? childrenOf(middleId) : undefined));
    await waitFor('both running steps to run', () => running.has(`${middleId}/work`) && running.has(`${leafId}/spin`));
    await waitFor('the waiting steps to wait', async () => {
      const [o, m] = await Promise.all([a.tasker.getTask(t.id), a.tasker.getTask(middleId)]);
      return stepOf(o, 'sub').state === 'waiting' && stepOf(m, 'nested').state === 'waiting';
    });

    await a.tasker.cancelTask(t.id, { actor: 'ops', reason: 'customer left' });
    const [outer, middle, leaf] = await waitFor('every step to settle', async () => {
      const all = await Promise.all([t.id, middleId, leafId].map((id) => a.tasker.getTask(id)));
      return all.every((x) => x.steps.every((s) => s.state !== 'in_progress')) && all;
    });
    expect([outer.state, middle.state, leaf.state]).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(aborted.get(`${middleId}/work`)).toBe('TaskCancelledError');
    expect(aborted.get(`${leafId}/spin`)).toBe('TaskCancelledError');
    expect(Object.fromEntries(outer.steps.map((s) => [s.name, s.state]))).toEqual({ sub: 'cancelled', after: 'cancelled' });
    expect(Object.fromEntries(middle.steps.map((s) => [s.name, s.state]))).toEqual({ work: 'cancelled', nested: 'cancelled' });
    expect(Object.fromEntries(leaf.steps.map((s) => [s.name, s.state]))).toEqual({ spin: 'cancelled' });

    for (const x of [outer, middle, leaf]) await expectConsistentAuditTrail(a.tasker, x);
    expect(await stepTrail(t.id, 'sub')).toEqual([
      ['pending', 'in_progress', expect.any(String), null],
      ['in_progress', 'waiting', expect.any(String), null],
      ['waiting', 'cancelled', 'ops', null],
    ]);
    expect((await taskTrail(t.id)).at(-1)).toEqual(['in_progress', 'cancelled', 'ops', 'customer left']);
    expect((await taskTrail(middleId)).at(-1)).toEqual(['in_progress', 'cancelled', 'ops', 'customer left']);
    expect((await taskTrail(leafId)).at(-1)).toEqual(['in_progress', 'cancelled', 'ops', 'customer left']);
    expect((await stepTrail(middleId, 'work')).at(-1)?.slice(0, 2)).toEqual(['in_progress', 'cancelled']);
    expect((await stepTrail(leafId, 'spin')).at(-1)?.slice(0, 2)).toEqual(['in_progress', 'cancelled']);
  });

  it('a child cancelled on its own fails its parent’s step; retryTask(parent) runs the step again, which starts a new child', async () => {
    const t = await a.tasker.createTask({ name: 'outer', namespace: 'dkid', context: {} });
    const [middleId] = await waitFor('the child', async () => ((await childrenOf(t.id)).length === 1 ? childrenOf(t.id) : undefined));
    await waitFor('the child to run', () => running.has(`${middleId}/work`));
    await a.tasker.cancelTask(middleId, { actor: 'ops' });
    const failed = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(failed.state).toBe('error');
    expect(stepOf(failed, 'sub')).toMatchObject({ state: 'error', lastError: { code: 'CHILD_TASK_FAILED' } });
    await expectConsistentAuditTrail(a.tasker, failed);

    // retry_task.sql: "nothing to retry: the step runs again and starts a new child".
    await a.tasker.retryTask(t.id, { actor: 'ops' });
    const second = await waitFor('a second child', async () => {
      const ids = await childrenOf(t.id);
      return ids.length === 2 && ids[1];
    }, { timeoutMs: 10_000 });
    expect(second).not.toBe(middleId);
    // The child is created pending; it is in progress once a worker has claimed its first step.
    await waitFor('the second child to run', () => running.has(`${second}/work`));
    expect(await a.tasker.getTask(second)).toMatchObject({ state: 'in_progress', parentTaskId: t.id, parentStepName: 'sub' });
    await a.tasker.cancelTask(t.id); // ends the second family: its steps run until aborted
    expect((await a.tasker.getTask(second)).state).toBe('cancelled');
  });
});
