import { DependsOn, Step, StepContext, TaskHandler, TaskerEvents } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';

/** Conditions, joins, map steps, signals, sleeps and child tasks, end to end on one worker. */

@TaskHandler({ name: 'shipping', namespace: 'dyn', version: '1' })
class Shipping {
  @Step()
  quote(ctx: StepContext<{ express: boolean }>) {
    return { express: ctx.task.context.express };
  }

  @Step({ runIf: (ctx) => (ctx.results['quote'] as { express: boolean }).express })
  @DependsOn('quote')
  express() {
    return 'express';
  }

  @Step({ runIf: (ctx) => !(ctx.results['quote'] as { express: boolean }).express })
  @DependsOn('quote')
  standard() {
    return 'standard';
  }

  /** Runs after whichever branch ran: one parent skipped, one not. */
  @Step()
  @DependsOn('express', 'standard')
  label(ctx: StepContext) {
    return { via: Object.keys(ctx.results).sort() };
  }

  /** Only after express: skipped with it. */
  @Step()
  @DependsOn('express')
  track() {
    return 'tracked';
  }
}

@TaskHandler({ name: 'thumbs', namespace: 'dyn', version: '1' })
class Thumbs {
  @Step()
  list(ctx: StepContext<{ n: number }>) {
    return { urls: Array.from({ length: ctx.task.context.n }, (_, i) => `img-${i}`) };
  }

  @Step({ map: (ctx) => (ctx.results['list'] as { urls: string[] }).urls, maxParallel: 3 })
  @DependsOn('list')
  resize(ctx: StepContext<{ n: number }, string>) {
    return `${ctx.item}@${ctx.index}`;
  }

  @Step()
  @DependsOn('resize')
  zip(ctx: StepContext) {
    return { files: ctx.results['resize'] };
  }
}

@TaskHandler({ name: 'approval', namespace: 'dyn', version: '1' })
class Approval {
  @Step()
  ask(ctx: StepContext) {
    return ctx.waitForSignal('approved', { timeoutMs: 60_000 });
  }

  @Step()
  @DependsOn('ask')
  pay(ctx: StepContext) {
    return { approvedBy: ctx.results['ask'] };
  }
}

@TaskHandler({ name: 'payment', namespace: 'dyn', version: '1' })
class Payment {
  @Step()
  charge(ctx: StepContext<{ amount: number }>) {
    if (ctx.task.context.amount < 0) throw new Error('negative amount');
    return { charged: ctx.task.context.amount };
  }
}

@TaskHandler({ name: 'order', namespace: 'dyn', version: '1' })
class Order {
  @Step()
  pay(ctx: StepContext<{ amount: number }>) {
    return ctx.startChild({ name: 'payment', namespace: 'dyn', context: { amount: ctx.task.context.amount } });
  }

  @Step()
  nap(ctx: StepContext) {
    return ctx.sleep(50);
  }

  @Step()
  @DependsOn('pay', 'nap')
  done(ctx: StepContext) {
    return ctx.results;
  }
}

describe('dynamic workflows', () => {
  const schema = uniqueSchema('dyn');
  let a: TestApp;

  beforeAll(async () => {
    a = await startApp(schema, [Shipping, Thumbs, Approval, Payment, Order]);
  });
  afterAll(async () => {
    await a?.close();
    if (!process.env.KEEP_SCHEMA) await dropSchema(schema);
  });

  const steps = async (id: string) => Object.fromEntries((await a.tasker.getTask(id)).steps.map((s) => [s.name, s]));

  it('conditions: the false branch is skipped without an attempt, the join runs, a step after a skipped one only is skipped', async () => {
    const t = await a.tasker.createTask({ name: 'shipping', namespace: 'dyn', context: { express: false } });
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    const s = await steps(t.id);
    expect(s.express).toMatchObject({ state: 'skipped', attempts: 0, readiness: { reason: 'condition false' } });
    expect(s.track).toMatchObject({ state: 'skipped', attempts: 0, readiness: { reason: 'all parents skipped' } });
    expect(s.standard).toMatchObject({ state: 'complete', results: 'standard' });
    expect(s.label.results).toEqual({ via: ['standard'] }); // a skipped parent has no entry
    const skipped = a.events.filter((e) => e.event === TaskerEvents.STEP_SKIPPED && e.taskId === t.id);
    expect(skipped.map((e) => [('stepName' in e && e.stepName) || '', e.reason])).toEqual([
      ['express', 'condition false'],
      ['track', 'all parents skipped'],
    ]);
    const audit = await a.tasker.getAuditTrail(t.id);
    expect(audit.filter((e) => e.to === 'skipped').map((e) => [e.stepName, e.from, e.reason])).toEqual([
      ['express', 'in_progress', 'condition false'],
      ['track', 'pending', 'all parents skipped'],
    ]);
  });

  it('map: one instance per item, at most maxParallel at once, results in item order to the dependent', async () => {
    const t = await a.tasker.createTask({ name: 'thumbs', namespace: 'dyn', context: { n: 10 } });
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    const s = await steps(t.id);
    const files = Array.from({ length: 10 }, (_, i) => `img-${i}@${i}`);
    expect(s.zip.results).toEqual({ files });
    expect(s.resize).toMatchObject({ state: 'complete', results: files, instances: { total: 10, done: 10, running: 0, failed: 0 } });
    expect(s['resize[7]']).toMatchObject({ state: 'complete', mapOf: 'resize', mapIndex: 7, results: 'img-7@7' });
    // maxParallel: from the audit trail, never more than 3 instances in progress at once.
    const audit = await a.tasker.getAuditTrail(t.id);
    let running = 0;
    let most = 0;
    for (const e of audit.filter((x) => x.stepName?.startsWith('resize['))) {
      if (e.to === 'in_progress') most = Math.max(most, ++running);
      if (e.from === 'in_progress') running--;
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(3);
    expect(audit.find((e) => e.stepName === 'resize' && e.to === 'waiting')?.reason).toBe('expanded into 10 instances');
  });

  it('map: an empty array completes the map step at once with []', async () => {
    const t = await a.tasker.createTask({ name: 'thumbs', namespace: 'dyn', context: { n: 0 } });
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect((await steps(t.id)).zip.results).toEqual({ files: [] });
  });

  it('signals: sent before the wait, it is kept and delivered; a second one is refused; the sender is the actor', async () => {
    const early = await a.tasker.createTask({ name: 'approval', namespace: 'dyn', context: {}, runAt: new Date(Date.now() + 300) });
    await a.tasker.signal(early.id, 'approved', { by: 'manager' }, { actor: 'alice', reason: 'looks fine' });
    const done = await a.tasker.waitForTask(early.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect((await steps(early.id)).pay.results).toEqual({ approvedBy: { by: 'manager' } });
    await expect(a.tasker.signal(early.id, 'approved', {})).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });

    const late = await a.tasker.createTask({ name: 'approval', namespace: 'dyn', context: {} });
    await waitFor('the step to wait', async () => (await steps(late.id)).ask.state === 'waiting');
    const ask = (await steps(late.id)).ask;
    expect(ask.readiness.reason).toMatch(/^waiting for signal "approved" until \d{4}-/);
    expect(ask.waitingFor).toMatchObject({ kind: 'signal', name: 'approved' });
    await a.tasker.signal(late.id, 'approved', 'yes', { actor: 'bob' });
    await a.tasker.waitForTask(late.id, { timeoutMs: 20_000 });
    const audit = await a.tasker.getAuditTrail(late.id);
    expect(audit.find((e) => e.stepName === 'ask' && e.to === 'complete')).toMatchObject({ from: 'waiting', actor: 'bob', reason: 'signal "approved"' });
    expect(a.events.some((e) => e.event === TaskerEvents.SIGNAL_RECEIVED && e.taskId === late.id && e.actor === 'bob')).toBe(true);
  });

  it('child tasks and sleep: the parent step completes with the child’s results; a failed child fails it, retry retries the child', async () => {
    const t = await a.tasker.createTask({ name: 'order', namespace: 'dyn', context: { amount: 42 } });
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    const s = await steps(t.id);
    const child = (s.pay.results as { taskId: string }).taskId;
    expect(s.pay.results).toEqual({ taskId: child, results: { charge: { charged: 42 } } });
    expect(s.nap.state).toBe('complete');
    expect(s.nap.results ?? null).toBeNull(); // sleep's results: null
    expect(await a.tasker.getTask(child)).toMatchObject({ state: 'complete', parentTaskId: t.id, parentStepName: 'pay' });

    const bad = await a.tasker.createTask({ name: 'order', namespace: 'dyn', context: { amount: -1 } });
    const failed = await a.tasker.waitForTask(bad.id, { timeoutMs: 20_000 });
    expect(failed.state).toBe('error');
    const pay = (await steps(bad.id)).pay;
    expect(pay.lastError).toMatchObject({ code: 'CHILD_TASK_FAILED' });
    expect(pay.attempts).toBe(1); // not retried automatically
    const childId = (await withClient((c) => c.query(`SELECT id::text FROM "${schema}".tasks WHERE parent_task_id = $1`, [bad.id]))).rows[0].id;
    expect((await a.tasker.getTask(childId)).state).toBe('error');
    // Fix the cause, retry the parent: the same child runs again, and the step waits for it again.
    await withClient((c) => c.query(`UPDATE "${schema}".tasks SET context = '{"amount": 7}' WHERE id = $1`, [childId]));
    await a.tasker.retryTask(bad.id, { actor: 'ops' });
    const retried = await a.tasker.waitForTask(bad.id, { timeoutMs: 20_000 });
    expect(retried.state).toBe('complete');
    expect((await steps(bad.id)).pay.results).toEqual({ taskId: childId, results: { charge: { charged: 7 } } });
  });
});
