// Internals: LeaseSweeper.sweep() on demand, TaskerWorker's owner id, a spy on StepRepository.expand to see a stale expansion refused by the database.
import type { StepContext } from 'nestjs-tasker';
import { DependsOn, Step, TaskerEvents, TaskHandler } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { Latch, waitFor } from '../support/wait';
import { expectConsistentAuditTrail, expectTrailEndsWithTask } from '../support/audit-check';
import { LeaseSweeper } from '../../libs/tasker/src/orchestration/lease.sweeper';
import { TaskerWorker } from '../../libs/tasker/src/orchestration/tasker.worker';
import { StepRepository } from '../../libs/tasker/src/persistence/step.repository';

/**
 * Two workers (two apps on one schema) and one expansion (SPEC §8.2: "expansion happens exactly
 * once per task, also when two workers race"): one set of instances, one `expanded into N`
 * transition, every instance run exactly once.
 */

/** Instance runs by `${taskId}/${index}`, and map evaluations by task id, across both apps (one process). */
const instanceRuns = new Map<string, string[]>();
const mapEvaluations = new Map<string, number[]>();

/**
 * The staged race: the map function of attempt `n` waits for `gates[n]` (when set) and returns the
 * items of `items[n]`, so which attempt's expansion won shows in the instances.
 */
const staged = {
  gates: new Map<number, Latch>(),
  evaluating: new Map<number, Latch>(),
  items: new Map<number, string[]>(),
};

async function mapItems(ctx: StepContext<{ n: number; staged?: boolean }>): Promise<unknown[]> {
  mapEvaluations.set(ctx.task.id, [...(mapEvaluations.get(ctx.task.id) ?? []), ctx.step.attempt]);
  if (!ctx.task.context.staged) return Array.from({ length: ctx.task.context.n }, (_, i) => `item-${i}`);
  staged.evaluating.get(ctx.step.attempt)?.resolve();
  await staged.gates.get(ctx.step.attempt)?.promise;
  return staged.items.get(ctx.step.attempt)!;
}

@TaskHandler({ name: 'raced_map', namespace: 'drace', version: '1' })
class RacedMap {
  @Step()
  start(ctx: StepContext<{ n: number }>) {
    return ctx.task.context.n;
  }

  @Step({ map: mapItems, retryLimit: 3 })
  @DependsOn('start')
  each(ctx: StepContext<{ n: number }, string>) {
    const key = `${ctx.task.id}/${ctx.index}`;
    instanceRuns.set(key, [...(instanceRuns.get(key) ?? []), `${ctx.item}#${ctx.step.attempt}`]);
    return ctx.item;
  }

  @Step()
  @DependsOn('each')
  end(ctx: StepContext) {
    return ctx.results['each'];
  }
}

async function expansions(schema: string, taskId: string) {
  return withClient(async (c) => {
    const t = await c.query<{ reason: string; actor: string; attempt: number }>(
      `SELECT reason, actor, attempt FROM "${schema}".workflow_step_transitions WHERE task_id = $1 AND step_name = 'each' AND to_state = 'waiting'`,
      [taskId],
    );
    const i = await c.query<{ name: string; map_index: number; item: string }>(
      `SELECT name, map_index, item FROM "${schema}".workflow_steps WHERE task_id = $1 AND map_step_id IS NOT NULL ORDER BY map_index`,
      [taskId],
    );
    return { transitions: t.rows, instances: i.rows };
  });
}

describe('two workers and one expansion', () => {
  const schema = uniqueSchema('drace');
  const apps: TestApp[] = [];
  const boot = async (...args: Parameters<typeof startApp>) => {
    const a = await startApp(...args);
    apps.push(a);
    return a;
  };
  const closeAll = async () => {
    while (apps.length) await apps.pop()!.close().catch(() => undefined);
  };
  afterEach(closeAll);
  afterAll(async () => {
    await closeAll();
    if (!process.env.KEEP_SCHEMA) await dropSchema(schema);
  });

  it('many tasks, two workers taking the map steps as they become ready: each expands once, each instance runs once', async () => {
    const a = await boot(schema, [RacedMap], { worker: { concurrency: 8 } });
    const b = await boot(schema, [RacedMap], { worker: { concurrency: 8 } });
    const N = 25;
    const tasks = await a.tasker.createTasks(Array.from({ length: 40 }, () => ({ name: 'raced_map', namespace: 'drace', context: { n: N } })));
    for (const t of tasks) {
      const done = await b.tasker.waitForTask(t.id, { timeoutMs: 60_000 });
      expect(done.state).toBe('complete');
      const ex = await expansions(schema, t.id);
      expect(ex.transitions.map((e) => e.reason)).toEqual([`expanded into ${N} instances`]);
      expect(ex.instances.map((i) => [i.name, i.item])).toEqual(Array.from({ length: N }, (_, i) => [`each[${i}]`, `item-${i}`]));
      expect(mapEvaluations.get(t.id)).toEqual([1]);
      for (let i = 0; i < N; i++) expect({ i, runs: instanceRuns.get(`${t.id}/${i}`) }).toEqual({ i, runs: [`item-${i}#1`] });
      expect(done.steps.find((s) => s.name === 'end')!.results).toEqual(Array.from({ length: N }, (_, i) => `item-${i}`));
      expectTrailEndsWithTask(await expectConsistentAuditTrail(b.tasker, done), 'complete');
    }
  }, 90_000);

  describe('the lease of the worker evaluating the map lapses, a second worker evaluates it again: only one expansion is stored', () => {
    it.each([
      ['the first worker’s late expansion comes after the second one expanded', 'after'],
      ['both expansions are sent together', 'together'],
      ['the first worker’s late expansion comes while the second one still evaluates', 'before'],
    ] as const)('%s', async (_title, order) => {
      staged.gates = new Map([
        [1, new Latch()],
        [2, new Latch()],
      ]);
      staged.evaluating = new Map([
        [1, new Latch()],
        [2, new Latch()],
      ]);
      staged.items = new Map([
        [1, ['old-0', 'old-1', 'old-2']],
        [2, ['new-0', 'new-1', 'new-2', 'new-3', 'new-4']],
      ]);
      const noSweeps = { sweepIntervalMs: 600_000 };
      // The first worker: one slot, and a lease it would renew only every 20 s.
      const oldApp = await boot(schema, [RacedMap], { worker: { concurrency: 1, leaseMs: 60_000, ...noSweeps } });
      const oldExpand = jest.spyOn(oldApp.get(StepRepository), 'expand');
      const task = await oldApp.tasker.createTask({ name: 'raced_map', namespace: 'drace', context: { n: 0, staged: true } });
      await staged.evaluating.get(1)!.promise;

      const newApp = await boot(schema, [RacedMap], { worker: { concurrency: 4, ...noSweeps } });
      const newExpand = jest.spyOn(newApp.get(StepRepository), 'expand');
      await withClient((c) =>
        c.query(`UPDATE "${schema}".workflow_steps SET lease_expires_at = now() - interval '1 s' WHERE task_id = $1 AND name = 'each'`, [task.id]),
      );
      expect(await newApp.get(LeaseSweeper).sweep()).toBe(1);
      await staged.evaluating.get(2)!.promise; // the second worker claimed attempt 2 and evaluates the items

      const oldDone = () => oldExpand.mock.results.length === 1 && (oldExpand.mock.results[0].value as Promise<unknown[]>);
      const newDone = () => newExpand.mock.results.length === 1 && (newExpand.mock.results[0].value as Promise<unknown[]>);
      if (order === 'after') {
        staged.gates.get(2)!.resolve();
        expect((await waitFor('the second expansion', newDone)).length).toBeGreaterThan(0);
        staged.gates.get(1)!.resolve();
        expect(await waitFor('the first worker’s late expansion', oldDone)).toEqual([]);
      } else if (order === 'together') {
        staged.gates.get(1)!.resolve();
        staged.gates.get(2)!.resolve();
        const [late, won] = await Promise.all([waitFor('the first expansion', oldDone), waitFor('the second expansion', newDone)]);
        expect(late).toEqual([]);
        expect(won.length).toBeGreaterThan(0);
      } else {
        staged.gates.get(1)!.resolve();
        expect(await waitFor('the first worker’s late expansion', oldDone)).toEqual([]);
        staged.gates.get(2)!.resolve();
        expect((await waitFor('the second expansion', newDone)).length).toBeGreaterThan(0);
      }

      const done = await newApp.tasker.waitForTask(task.id, { timeoutMs: 30_000 });
      expect(done.state).toBe('complete');
      const newOwner = newApp.get(TaskerWorker).owner;
      const ex = await expansions(schema, task.id);
      expect(ex.transitions).toEqual([{ reason: 'expanded into 5 instances', actor: newOwner, attempt: 2 }]);
      expect(ex.instances.map((i) => i.item)).toEqual(staged.items.get(2));
      for (let i = 0; i < 5; i++) expect({ i, runs: instanceRuns.get(`${task.id}/${i}`) }).toEqual({ i, runs: [`new-${i}#1`] });
      expect(mapEvaluations.get(task.id)).toEqual([1, 2]);
      expect(done.steps.find((s) => s.name === 'end')!.results).toEqual(staged.items.get(2));

      const trail = await expectConsistentAuditTrail(newApp.tasker, done);
      expectTrailEndsWithTask(trail, 'complete');
      expect(trail.filter((e) => e.stepName === 'each').map((e) => [e.from, e.to, e.attempt ?? null, e.error?.code ?? null])).toEqual([
        ['pending', 'in_progress', 1, null],
        ['in_progress', 'error', 1, 'LEASE_EXPIRED'],
        ['error', 'in_progress', 2, null],
        ['in_progress', 'waiting', 2, null],
        ['waiting', 'complete', 2, null],
      ]);
      // The first worker published nothing about the expansion it lost (it may have run instances
      // afterwards, and published the map step's completion if it ran the last one).
      const oldEach = oldApp.events.filter((e) => e.taskId === task.id && 'stepName' in e && e.stepName === 'each').map((e) => e.event);
      expect(oldEach[0]).toBe(TaskerEvents.STEP_STARTED);
      expect(oldEach).not.toContain(TaskerEvents.STEP_WAITING);
      expect(oldEach).not.toContain(TaskerEvents.STEP_FAILED);
    });
  });
});
