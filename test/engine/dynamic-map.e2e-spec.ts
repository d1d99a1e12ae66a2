import type { AuditEntry, StepContext } from 'nestjs-tasker';
import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { Latch, waitFor } from '../support/wait';
import { expectConsistentAuditTrail, expectTrailEndsWithTask } from '../support/audit-check';

/**
 * Map steps at their limits (SPEC §8.2): 10,000 items whose results reach the dependent in item
 * order; maxParallel never exceeded (read from the audit trail, with two workers and retries);
 * retryTask re-running only the failed instances.
 */

type Ctx = { n: number; maxParallel?: number };

/** Every instance body run, by `${taskId}/${index}` → attempts seen. */
const runs = new Map<string, number[]>();
const record = (ctx: StepContext<unknown, unknown>) => {
  const key = `${ctx.task.id}/${ctx.index}`;
  runs.set(key, [...(runs.get(key) ?? []), ctx.step.attempt]);
};
/** What the dependents saw of their map step's results, by task id. */
const seenByDependent = new Map<string, unknown>();

@TaskHandler({ name: 'big_map', namespace: 'dmap', version: '1' })
class BigMap {
  @Step()
  list(ctx: StepContext<Ctx>) {
    return { n: ctx.task.context.n };
  }

  @Step({ map: (ctx) => Array.from({ length: (ctx.results['list'] as { n: number }).n }, (_, i) => ({ k: i, label: `item-${i}` })) })
  @DependsOn('list')
  square(ctx: StepContext<Ctx, { k: number; label: string }>) {
    record(ctx);
    if (ctx.item!.k !== ctx.index) throw new Error(`instance ${ctx.index} got item ${JSON.stringify(ctx.item)}`);
    return ctx.item!.k * ctx.item!.k;
  }

  @Step()
  @DependsOn('square')
  collect(ctx: StepContext<Ctx>) {
    seenByDependent.set(ctx.task.id, ctx.results['square']);
    const r = ctx.results['square'] as number[];
    return { length: r.length };
  }
}

/** Instances of the bounded map: blocked at a gate while `gate` is set, failing their first attempt when `flaky`. */
const bounded = { gate: null as Latch | null, flaky: new Set<number>() };

@TaskHandler({ name: 'bounded_map', namespace: 'dmap', version: '1' })
class BoundedMap {
  @Step({ map: (ctx) => Array.from({ length: (ctx.task.context as Ctx).n }, (_, i) => i), maxParallel: 4, retryLimit: 3 })
  work(ctx: StepContext<Ctx, number>) {
    record(ctx);
    const go = async () => {
      if (bounded.gate) await bounded.gate.promise;
      if (bounded.flaky.has(ctx.index!) && ctx.step.attempt === 1) throw new Error(`instance ${ctx.index} fails once`);
      return ctx.index! * 10;
    };
    return go();
  }

  @Step()
  @DependsOn('work')
  after(ctx: StepContext<Ctx>) {
    seenByDependent.set(ctx.task.id, ctx.results['work']);
    return 'after';
  }
}

/** Instances listed in `failing.indexes` fail every attempt while `failing.on` is true. */
const failing = { on: true, indexes: new Set<number>() };
const failingBody = (ctx: StepContext<Ctx, number>) => {
  record(ctx);
  if (failing.on && failing.indexes.has(ctx.index!)) throw new Error(`instance ${ctx.index} fails`);
  return { i: ctx.index, item: ctx.item };
};

@TaskHandler({ name: 'failing_map', namespace: 'dmap', version: '1' })
class FailingMap {
  @Step({ map: (ctx) => Array.from({ length: (ctx.task.context as Ctx).n }, (_, i) => `x${i}`), retryLimit: 2 })
  each(ctx: StepContext<Ctx, number>) {
    return failingBody(ctx);
  }

  @Step()
  @DependsOn('each')
  after(ctx: StepContext<Ctx>) {
    seenByDependent.set(ctx.task.id, ctx.results['each']);
    return 'after';
  }
}

@TaskHandler({ name: 'failing_bounded_map', namespace: 'dmap', version: '1' })
class FailingBoundedMap {
  @Step({ map: (ctx) => Array.from({ length: (ctx.task.context as Ctx).n }, (_, i) => `x${i}`), retryLimit: 2, maxParallel: 2 })
  each(ctx: StepContext<Ctx, number>) {
    return failingBody(ctx);
  }

  @Step()
  @DependsOn('each')
  after(ctx: StepContext<Ctx>) {
    seenByDependent.set(ctx.task.id, ctx.results['each']);
    return 'after';
  }
}

@TaskHandler({ name: 'too_large', namespace: 'dmap', version: '1' })
class TooLarge {
  @Step({ map: () => Array.from({ length: 10_001 }, (_, i) => i), retryLimit: 3 })
  each() {
    return 1;
  }
}

/**
 * From a trail: the most instances of `mapStep` in progress at one instant, and the most holding a
 * place (started, not yet finished for good: an attempt waiting for its retry keeps its place; an
 * error at the last attempt, `retryLimit`, gives it back).
 */
function concurrency(trail: AuditEntry[], mapStep: string, retryLimit: number) {
  const inProgress = new Set<string>();
  const holding = new Set<string>();
  let mostInProgress = 0;
  let mostHolding = 0;
  for (const e of trail) {
    const name = e.stepName;
    if (!name?.startsWith(`${mapStep}[`)) continue;
    if (e.from === 'in_progress') inProgress.delete(name);
    if (e.to === 'in_progress') inProgress.add(name);
    if (e.to === 'in_progress') holding.add(name);
    if (['complete', 'resolved_manually', 'cancelled', 'skipped'].includes(e.to) || (e.to === 'error' && (e.attempt ?? 0) >= retryLimit)) {
      holding.delete(name);
    }
    mostInProgress = Math.max(mostInProgress, inProgress.size);
    mostHolding = Math.max(mostHolding, holding.size);
  }
  return { mostInProgress, mostHolding };
}

describe('map steps at their limits', () => {
  const schema = uniqueSchema('dmap');
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const providers = [BigMap, BoundedMap, FailingMap, FailingBoundedMap, TooLarge];
    a = await startApp(schema, providers, { worker: { concurrency: 20 } });
    b = await startApp(schema, providers, { worker: { concurrency: 10 } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    if (!process.env.KEEP_SCHEMA) await dropSchema(schema);
  });

  const stepsOf = async (id: string) => Object.fromEntries((await a.tasker.getTask(id)).steps.map((s) => [s.name, s]));

  it('10,000 items: each instance runs once, and the dependent sees exactly the 10,000 results in item order', async () => {
    const N = 10_000;
    const t = await a.tasker.createTask({ name: 'big_map', namespace: 'dmap', context: { n: N } });
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 180_000 });
    expect(done.state).toBe('complete');

    const expected = Array.from({ length: N }, (_, i) => i * i);
    const seen = seenByDependent.get(t.id) as number[];
    expect(seen).toHaveLength(N);
    expect(seen).toEqual(expected);
    const square = done.steps.find((s) => s.name === 'square')!;
    expect(square).toMatchObject({ state: 'complete', instances: { total: N, done: N, running: 0, failed: 0 } });
    expect(square.results).toEqual(expected);
    expect(done.steps.find((s) => s.name === 'collect')!.results).toEqual({ length: N });
    expect(done.steps).toHaveLength(N + 3);

    const ranOnce = Array.from({ length: N }, (_, i) => runs.get(`${t.id}/${i}`));
    expect(ranOnce.filter((r) => JSON.stringify(r) !== '[1]')).toEqual([]);

    const trail = await expectConsistentAuditTrail(a.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    expect(trail.filter((e) => e.stepName === 'square' && e.to === 'waiting').map((e) => e.reason)).toEqual([`expanded into ${N} instances`]);
  }, 240_000);

  it('more than 10,000 items: the map step fails with MAP_TOO_LARGE, not retried, without instances', async () => {
    const t = await a.tasker.createTask({ name: 'too_large', namespace: 'dmap', context: {} });
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('error');
    expect(done.steps).toHaveLength(1);
    expect(done.steps[0]).toMatchObject({ state: 'error', attempts: 1, lastError: { code: 'MAP_TOO_LARGE' } });
    await expectConsistentAuditTrail(a.tasker, done);
  });

  it('maxParallel 4 with two workers of 30 slots and retries: never more than 4 instances hold a place; held-back ones say why', async () => {
    const N = 30;
    bounded.gate = new Latch();
    bounded.flaky = new Set([1, 5, 6, 17, 29]);
    const t = await a.tasker.createTask({ name: 'bounded_map', namespace: 'dmap', context: { n: N } });

    // The first four (lowest indexes) run and are held at the gate; the rest wait for a place.
    const claimedAtGate = await waitFor('four instances to run', async () => {
      const { rows } = await withClient((c) =>
        c.query<{ name: string }>(`SELECT name FROM "${schema}".workflow_steps WHERE task_id = $1 AND state = 'in_progress' ORDER BY map_index`, [t.id]),
      );
      return rows.length === 4 ? rows.map((r) => r.name) : undefined;
    });
    expect(claimedAtGate).toEqual(['work[0]', 'work[1]', 'work[2]', 'work[3]']);
    const held = (await stepsOf(t.id))['work[4]'];
    expect(held).toMatchObject({ state: 'pending', mapOf: 'work', mapIndex: 4, readiness: { reason: 'waiting for a free place (maxParallel 4)' } });
    const mapView = (await stepsOf(t.id)).work;
    expect(mapView).toMatchObject({ state: 'waiting', waitingFor: { kind: 'map' }, instances: { total: N, done: 0, running: 4, failed: 0 } });
    expect(mapView.readiness.reason).toBe(`waiting for ${N} of ${N} instances`);
    bounded.gate.resolve();

    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 60_000 });
    bounded.gate = null;
    expect(done.state).toBe('complete');
    expect(seenByDependent.get(t.id)).toEqual(Array.from({ length: N }, (_, i) => i * 10));
    for (let i = 0; i < N; i++) {
      expect({ i, attempts: runs.get(`${t.id}/${i}`) }).toEqual({ i, attempts: bounded.flaky.has(i) ? [1, 2] : [1] });
    }

    const trail = await expectConsistentAuditTrail(a.tasker, done);
    const c = concurrency(trail, 'work', 3);
    expect(c.mostInProgress).toBe(4); // reached at the gate
    expect(c.mostHolding).toBeLessThanOrEqual(4);
    // Places go to the lowest held-back index first, but with two workers the claims that take them
    // commit in either order, so the audit trail's order of first starts is not item order: each
    // instance starts once, and none more than 4 places ahead of the lowest one not started yet.
    const firstStarts = trail.filter((e) => e.stepName?.startsWith('work[') && e.from === 'pending' && e.to === 'in_progress').map((e) => e.stepName!);
    const index = (name: string) => Number(/\[(\d+)\]$/.exec(name)![1]);
    expect([...firstStarts].sort((x, y) => index(x) - index(y))).toEqual(Array.from({ length: N }, (_, i) => `work[${i}]`));
    firstStarts.forEach((name, at) => {
      const lowestNotStarted = Math.min(...firstStarts.slice(at).map(index));
      expect(index(name) - lowestNotStarted).toBeLessThan(4);
    });
    // Both workers took part only if they could: not asserted (who claims is not the subject).
  }, 90_000);

  it('resolveStep on an instance that failed for good: the map step completes with the resolved results in place, the task completes', async () => {
    const N = 6;
    failing.on = true;
    failing.indexes = new Set([1]);
    const t = await a.tasker.createTask({ name: 'failing_bounded_map', namespace: 'dmap', context: { n: N } });
    const failed = await a.tasker.waitForTask(t.id, { timeoutMs: 30_000 });
    expect(failed.state).toBe('error');
    // The failed instance gave its place back: every other instance ran.
    expect(failed.steps.find((s) => s.name === 'each')).toMatchObject({ state: 'error', instances: { total: N, done: N - 1, running: 0, failed: 1 } });
    await expect(a.tasker.resolveStep(t.id, 'each', { results: [] })).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });

    await a.tasker.resolveStep(t.id, 'each[1]', { results: { manual: true }, actor: 'ops' });
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 30_000 });
    failing.on = false;
    expect(done.state).toBe('complete');
    const expected = Array.from({ length: N }, (_, i) => (i === 1 ? { manual: true } : { i, item: `x${i}` }));
    expect(done.steps.find((s) => s.name === 'each')).toMatchObject({ state: 'complete', results: expected });
    expect(seenByDependent.get(t.id)).toEqual(expected);
    expect(runs.get(`${t.id}/1`)).toEqual([1, 2]);
    const trail = await expectConsistentAuditTrail(a.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    expect(concurrency(trail, 'each', 2).mostHolding).toBeLessThanOrEqual(2);
  });

  it.each([
    ['failing_map', 'without maxParallel'],
    ['failing_bounded_map', 'with maxParallel 2'],
  ])('retryTask re-runs only the failed instances (%s, %s); the completed ones keep attempts 1', async (name) => {
    const N = 12;
    failing.on = true;
    failing.indexes = new Set([2, 5, 9]);
    const t = await a.tasker.createTask({ name, namespace: 'dmap', context: { n: N } });
    const failed = await a.tasker.waitForTask(t.id, { timeoutMs: 30_000 });
    expect(failed.state).toBe('error');
    const s1 = Object.fromEntries(failed.steps.map((s) => [s.name, s]));
    expect(s1.each).toMatchObject({ state: 'error', instances: { total: N, done: N - 3, running: 0, failed: 3 } });
    expect(s1.after.state).toBe('pending');
    for (const i of failing.indexes) expect(s1[`each[${i}]`]).toMatchObject({ state: 'error', attempts: 2 });
    // The trail of a task whose map step shows error (an instance failed for good) is consistent too.
    await expectConsistentAuditTrail(a.tasker, failed);

    failing.on = false;
    await a.tasker.retryTask(t.id, { actor: 'ops', reason: 'fixed the input' });
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('complete');
    const s2 = Object.fromEntries(done.steps.map((s) => [s.name, s]));
    for (let i = 0; i < N; i++) {
      const again = failing.indexes.has(i);
      expect({ i, attempts: s2[`each[${i}]`].attempts, state: s2[`each[${i}]`].state }).toEqual({ i, attempts: 1, state: 'complete' });
      expect({ i, runs: runs.get(`${t.id}/${i}`) }).toEqual({ i, runs: again ? [1, 2, 1] : [1] });
    }
    expect(seenByDependent.get(t.id)).toEqual(Array.from({ length: N }, (_, i) => ({ i, item: `x${i}` })));
    expect(s2.each).toMatchObject({ state: 'complete', instances: { total: N, done: N, running: 0, failed: 0 } });

    const trail = await expectConsistentAuditTrail(a.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    // Only the failed instances moved again after the retry, and the map step expanded once.
    const retryAt = trail.findIndex((e) => !e.stepName && e.from === 'error' && e.to === 'pending');
    expect(retryAt).toBeGreaterThan(0);
    const movedAfter = new Set(trail.slice(retryAt).filter((e) => e.stepName?.startsWith('each[')).map((e) => e.stepName));
    expect([...movedAfter].sort()).toEqual([...failing.indexes].map((i) => `each[${i}]`).sort());
    expect(trail.filter((e) => e.stepName === 'each' && e.to === 'waiting')).toHaveLength(1);
    if (name === 'failing_bounded_map') expect(concurrency(trail, 'each', 2).mostHolding).toBeLessThanOrEqual(2);
  });
});
