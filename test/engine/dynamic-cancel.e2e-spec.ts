import type { StepContext } from 'nestjs-tasker';
import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { Latch, waitFor } from '../support/wait';
import { expectConsistentAuditTrail } from '../support/audit-check';

/**
 * A task cancelled while one of its steps is in the middle of a dynamic outcome (SPEC §8): the
 * worker evaluates a map step's items, or its body is about to return a wait, when the task is
 * cancelled; the outcome arrives after the cancellation. Nothing may run for a cancelled task
 * afterwards, and nothing may be left pending or waiting in it.
 */

/** The latch the current test's step waits on before it returns; `began` opens when it starts. */
const hold = { gate: new Latch(), began: new Latch() };
const instanceRuns: string[] = [];

@TaskHandler({ name: 'mapping', namespace: 'dcancel', version: '1' })
class Mapping {
  @Step({
    map: async () => {
      hold.began.resolve();
      await hold.gate.promise;
      return [1, 2, 3, 4, 5];
    },
  })
  each(ctx: StepContext<unknown, number>) {
    instanceRuns.push(`${ctx.task.id}/${ctx.index}`);
    return ctx.item;
  }

  @Step()
  @DependsOn('each')
  after() {
    return 'after';
  }
}

@TaskHandler({ name: 'waiting', namespace: 'dcancel', version: '1' })
class Waiting {
  @Step()
  async ask(ctx: StepContext<{ kind: 'signal' | 'child' | 'sleep' }>) {
    hold.began.resolve();
    await hold.gate.promise;
    const kind = ctx.task.context.kind;
    if (kind === 'signal') return ctx.waitForSignal('go');
    if (kind === 'sleep') return ctx.sleep(60_000);
    return ctx.startChild({ name: 'kid', namespace: 'dcancel', context: {} });
  }

  @Step()
  @DependsOn('ask')
  after() {
    return 'after';
  }
}

@TaskHandler({ name: 'kid', namespace: 'dcancel', version: '1' })
class Kid {
  @Step()
  work() {
    return 'kid';
  }
}

/** Instances held at a gate: the first two run (maxParallel 2), the others wait for a place. */
const bounded = { gate: new Latch(), started: new Set<number>() };

@TaskHandler({ name: 'bounded', namespace: 'dcancel', version: '1' })
class Bounded {
  @Step({ map: () => [0, 1, 2, 3, 4, 5], maxParallel: 2 })
  async each(ctx: StepContext<unknown, number>) {
    bounded.started.add(ctx.index!);
    await bounded.gate.promise; // ignores its signal: returns after the cancellation
    return ctx.item;
  }
}

describe('cancelled while a dynamic outcome is on its way', () => {
  const schema = uniqueSchema('dcancel');
  let a: TestApp;

  beforeAll(async () => {
    a = await startApp(schema, [Mapping, Waiting, Kid, Bounded]);
  });
  afterAll(async () => {
    await a?.close();
    if (!process.env.KEEP_SCHEMA) await dropSchema(schema);
  });
  beforeEach(() => {
    hold.gate = new Latch();
    hold.began = new Latch();
  });

  const rows = (taskId: string) =>
    withClient(async (c) => (await c.query<{ name: string; state: string }>(`SELECT name, state FROM "${schema}".workflow_steps WHERE task_id = $1 ORDER BY id`, [taskId])).rows);
  /** Waits until the worker holds no attempt of the task any more (its late outcome was recorded). */
  const settled = (taskId: string) =>
    waitFor('the late outcome to be recorded', async () => (await rows(taskId)).every((r) => r.state !== 'in_progress'));

  it('while the map step evaluates its items: no instance runs, nothing is left pending or waiting', async () => {
    const t = await a.tasker.createTask({ name: 'mapping', namespace: 'dcancel', context: {} });
    await hold.began.promise;
    await a.tasker.cancelTask(t.id, { actor: 'ops' });
    hold.gate.resolve();
    await settled(t.id);

    const task = await a.tasker.getTask(t.id);
    expect(task.state).toBe('cancelled');
    // The map step is cancelled like any step whose outcome comes after the cancellation, and no
    // instance exists but cancelled ones: a pending one would be left (or claimed, and run).
    expect(await rows(t.id)).toEqual(expect.arrayContaining([{ name: 'each', state: 'cancelled' }, { name: 'after', state: 'cancelled' }]));
    expect((await rows(t.id)).filter((r) => r.state !== 'cancelled')).toEqual([]);
    expect(instanceRuns.filter((r) => r.startsWith(`${t.id}/`))).toEqual([]);
    await expectConsistentAuditTrail(a.tasker, task);
  });

  it.each([
    ['map', 'the expansion finds the task cancelled and adds no instance'],
    ['signal', 'the wait finds the task cancelled'],
    ['sleep', 'the wait finds the task cancelled'],
    ['child', 'the wait finds the task cancelled and starts no child'],
  ] as const)('the cancellation commits while the outcome (%s) waits for the task’s lock: %s', async (kind, _what) => {
    const t =
      kind === 'map'
        ? await a.tasker.createTask({ name: 'mapping', namespace: 'dcancel', context: {} })
        : await a.tasker.createTask({ name: 'waiting', namespace: 'dcancel', context: { kind } });
    await hold.began.promise;
    let cancelled!: Promise<unknown>;
    await withClient(async (holder) => {
      // Backends waiting behind this lock: directly, or queued behind the first waiter.
      const blocked = async (n: number) => {
        const { rows: r } = await holder.query(
          `WITH b AS (SELECT pid, pg_blocking_pids(pid) AS bl FROM pg_stat_activity WHERE datname = current_database())
           SELECT pid FROM b WHERE pg_backend_pid() = ANY (bl) OR bl && ARRAY(SELECT pid FROM b WHERE pg_backend_pid() = ANY (bl))`,
        );
        return r.length >= n;
      };
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".tasks WHERE id = $1 FOR UPDATE`, [t.id]);
      // First in the queue: the cancellation; second: the step's outcome (the items, or the wait).
      cancelled = a.tasker.cancelTask(t.id, { actor: 'ops' });
      cancelled.catch(() => undefined);
      await waitFor('the cancellation to wait for the task', () => blocked(1));
      hold.gate.resolve();
      await waitFor('the outcome to wait behind it', () => blocked(2));
      await holder.query('COMMIT');
    });
    await cancelled;
    await settled(t.id);

    const task = await a.tasker.getTask(t.id);
    expect(task.state).toBe('cancelled');
    const left = await rows(t.id);
    // A pending instance in a cancelled task would be claimed and run: none may exist.
    expect(left.filter((r) => r.state !== 'cancelled')).toEqual([]);
    expect(instanceRuns.filter((r) => r.startsWith(`${t.id}/`))).toEqual([]);
    const { rows: kids } = await withClient((c) => c.query(`SELECT id FROM "${schema}".tasks WHERE parent_task_id = $1`, [t.id]));
    expect(kids).toEqual([]);
    await expectConsistentAuditTrail(a.tasker, task);
  });

  it.each(['signal', 'sleep', 'child'] as const)('while the body is about to return a wait (%s): the step is cancelled, not waiting; no child is created', async (kind) => {
    const t = await a.tasker.createTask({ name: 'waiting', namespace: 'dcancel', context: { kind } });
    await hold.began.promise;
    await a.tasker.cancelTask(t.id, { actor: 'ops' });
    hold.gate.resolve();
    await settled(t.id);

    const task = await a.tasker.getTask(t.id);
    expect(task.state).toBe('cancelled');
    expect(Object.fromEntries(task.steps.map((s) => [s.name, s.state]))).toEqual({ ask: 'cancelled', after: 'cancelled' });
    const { rows: kids } = await withClient((c) => c.query(`SELECT id FROM "${schema}".tasks WHERE parent_task_id = $1`, [t.id]));
    expect(kids).toEqual([]);
    await expectConsistentAuditTrail(a.tasker, task);
  });

  it('while instances hold the places of maxParallel: the instances that finish after the cancellation let no held-back instance through', async () => {
    const t = await a.tasker.createTask({ name: 'bounded', namespace: 'dcancel', context: {} });
    await waitFor('two instances to run', () => bounded.started.size === 2);
    await a.tasker.cancelTask(t.id, { actor: 'ops' });
    bounded.gate.resolve();
    await settled(t.id);
    const left = (await rows(t.id)).filter((r) => !['cancelled', 'complete'].includes(r.state));
    expect(left).toEqual([]);
    expect([...bounded.started].sort()).toEqual([0, 1]);
    await expectConsistentAuditTrail(a.tasker, await a.tasker.getTask(t.id));
  });
});
