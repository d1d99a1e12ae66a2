import { DependsOn, Step, StepContext, TaskHandler } from 'nestjs-tasker';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { Latch, waitFor } from '../support/wait';

/** Priority, concurrency and rate limits on one worker: the basic behaviours, each with its readiness reason. */

const running = new Map<string, number>();
let most = new Map<string, number>();
const gate = { latch: new Latch() };
const order: string[] = [];

async function hold(key: string): Promise<void> {
  running.set(key, (running.get(key) ?? 0) + 1);
  most.set(key, Math.max(most.get(key) ?? 0, running.get(key)!));
  await gate.latch.promise;
  running.set(key, running.get(key)! - 1);
}

@TaskHandler({ name: 'crm_sync', namespace: 'fc', version: '1', concurrency: { key: 'account', limit: 1 } })
class CrmSync {
  @Step()
  async pull(ctx: StepContext<{ account: string }>) {
    await hold(`task:${ctx.task.context.account}`);
  }

  @Step()
  @DependsOn('pull')
  push() {}
}

@TaskHandler({ name: 'crm_call', namespace: 'fc', version: '1' })
class CrmCall {
  @Step({ concurrency: { key: 'region', limit: 2 } })
  async call(ctx: StepContext<{ region: string }>) {
    await hold(`step:${ctx.task.context.region}`);
  }
}

@TaskHandler({ name: 'charge', namespace: 'fc', version: '1' })
class Charge {
  @Step({ rateLimit: { bucket: 'stripe', limit: 3, periodMs: 400 } })
  charge() {
    return Date.now();
  }
}

@TaskHandler({ name: 'ranked', namespace: 'fc', version: '1' })
class Ranked {
  @Step()
  run(ctx: StepContext<{ label: string }>) {
    order.push(ctx.task.context.label);
  }
}

describe('flow control basics', () => {
  const schema = uniqueSchema('fc');
  let a: TestApp;
  beforeAll(async () => {
    a = await startApp(schema, [CrmSync, CrmCall, Charge, Ranked], { worker: { concurrency: 10 } });
  });
  afterAll(async () => {
    gate.latch.resolve();
    await a?.close();
    await dropSchema(schema);
  });
  beforeEach(() => {
    gate.latch = new Latch();
    most = new Map();
  });

  it('a step concurrency key: at most `limit` attempts per key run at once; the held ones say why', async () => {
    const tasks = await a.tasker.createTasks(Array.from({ length: 6 }, (_, i) => ({ name: 'crm_call', namespace: 'fc', context: { region: i % 2 ? 'eu' : 'us' } })));
    await waitFor('two calls per region running', () => running.get('step:eu') === 2 && running.get('step:us') === 2);
    const held = await waitFor('a held call', async () => {
      for (const t of tasks) {
        const s = (await a.tasker.getTask(t.id)).steps[0];
        if (s.state === 'pending') return s;
      }
      return undefined;
    });
    expect(held.readiness.reason).toMatch(/^concurrency limit \(fc\/crm_call\/call:(eu|us): 2\/2 running\)$/);
    expect(held.readiness.availableAt).toBeNull(); // held: ready at no known time
    expect((await a.tasker.stats()).held.concurrency_limit).toBe(2); // one held call per region
    gate.latch.resolve();
    for (const t of tasks) expect((await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 })).state).toBe('complete');
    expect(most.get('step:eu')).toBe(2);
    expect(most.get('step:us')).toBe(2);
  });

  it('a task concurrency key: at most `limit` tasks per key in progress; concurrencyKey overrides the context', async () => {
    const tasks = await a.tasker.createTasks([
      { name: 'crm_sync', namespace: 'fc', context: { account: 'a1' } },
      { name: 'crm_sync', namespace: 'fc', context: { account: 'a1' } },
      { name: 'crm_sync', namespace: 'fc', context: { account: 'other' }, concurrencyKey: 'a1' },
      { name: 'crm_sync', namespace: 'fc', context: { account: 'a2' } },
    ]);
    await waitFor('a1 and a2 running', () => running.get('task:a1') === 1 && running.get('task:a2') === 1);
    const states = await Promise.all(tasks.map(async (t) => (await a.tasker.getTask(t.id)).state));
    expect(states.filter((s) => s === 'in_progress')).toHaveLength(2); // one of the three a1 tasks, and a2
    gate.latch.resolve();
    for (const t of tasks) expect((await a.tasker.waitForTask(t.id, { timeoutMs: 20_000 })).state).toBe('complete');
    expect(most.get('task:a1')).toBe(1);
    // The task key holds the whole task, not only one step: never two a1 tasks in progress (audit).
    const intervals = await Promise.all(
      tasks.slice(0, 3).map(async (t) => {
        const trail = (await a.tasker.getAuditTrail(t.id)).filter((e) => !e.stepName);
        return [trail.find((e) => e.to === 'in_progress')!.at.getTime(), trail.find((e) => e.to === 'complete')!.at.getTime()];
      }),
    );
    intervals.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < intervals.length; i++) expect(intervals[i][0]).toBeGreaterThanOrEqual(intervals[i - 1][1]);
  });

  it('a rate limit: no more than `limit` starts in any window of periodMs, and every held step runs', async () => {
    const tasks = await a.tasker.createTasks(Array.from({ length: 8 }, () => ({ name: 'charge', namespace: 'fc', context: {} })));
    const done = await Promise.all(tasks.map((t) => a.tasker.waitForTask(t.id, { timeoutMs: 20_000 })));
    expect(done.every((d) => d.state === 'complete')).toBe(true);
    // The attempts' recorded starts (StepView.startedAt, the instant the claim started them).
    const starts = done.map((d) => d.steps[0].startedAt!.getTime()).sort((x, y) => x - y);
    for (let i = 3; i < starts.length; i++) expect(starts[i] - starts[i - 3]).toBeGreaterThanOrEqual(400);
  });

  it('priority: higher first, readiness order among equals', async () => {
    order.length = 0;
    const runAt = new Date(Date.now() + 300); // all become ready together
    await a.tasker.createTasks([
      { name: 'ranked', namespace: 'fc', context: { label: 'low' }, priority: -5, runAt },
      { name: 'ranked', namespace: 'fc', context: { label: 'normal-1' }, runAt },
      { name: 'ranked', namespace: 'fc', context: { label: 'high' }, priority: 50, runAt },
      { name: 'ranked', namespace: 'fc', context: { label: 'normal-2' }, runAt },
    ]);
    await waitFor('all four ran', () => order.length === 4 || undefined);
    expect(order).toEqual(['high', 'normal-1', 'normal-2', 'low']);
    await expect(a.tasker.createTask({ name: 'ranked', namespace: 'fc', context: {}, priority: 101 })).rejects.toMatchObject({ code: 'TASK_VALIDATION' });
  });
});
