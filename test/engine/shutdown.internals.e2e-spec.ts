// Internals: TaskerWorker's accepting state and renewLeases (stubbed so only ctx.heartbeat() renews), LeaseSweeper.sweep() on demand, to stage shutdown and lease timings.
import type { StepContext, TaskerModuleOptions } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { Latch, waitFor } from '../support/wait';
import { CHAIN_TASK, PROBE_TASK, ProbeRun, probeAndChainProviders } from '../fixtures/durability-probe.workflow';
import { LeaseSweeper } from '../../libs/tasker/src/orchestration/lease.sweeper';
import { TaskerWorker } from '../../libs/tasker/src/orchestration/tasker.worker';

/** Graceful shutdown, heartbeats and delayed starts. Each test has a schema of its own. */
describe('shutdown, heartbeat and delayed start', () => {
  let schema: string;
  const apps: TestApp[] = [];
  const boot = async (run: ProbeRun, overrides: Partial<TaskerModuleOptions> = {}) => {
    const a = await startApp(schema, probeAndChainProviders(run), overrides);
    apps.push(a);
    return a;
  };
  const stepRow = (taskId: string, name = 'work') =>
    withClient(async (c) => {
      const { rows } = await c.query(
        `SELECT state, attempts, lease_owner, lease_expires_at, results, started_at FROM "${schema}".workflow_steps
          WHERE task_id = $1 AND name = $2`,
        [taskId, name],
      );
      return rows[0];
    });
  const stepTrail = async (a: TestApp, taskId: string) =>
    (await a.tasker.getAuditTrail(taskId))
      .filter((e) => e.stepName)
      .map((e) => ({ from: e.from, to: e.to, attempt: e.attempt, code: e.error?.code ?? null, reason: e.reason }));

  beforeEach(() => {
    schema = uniqueSchema('shut');
  });
  afterEach(async () => {
    while (apps.length) await apps.pop()!.close().catch(() => undefined);
    await dropSchema(schema);
  });

  it('app.close() lets a running step finish and stores its result; its dependents and new work are left for other workers', async () => {
    const started = new Latch();
    const go = new Latch();
    const ranHere: string[] = [];
    const a = await boot(
      async (ctx) => {
        ranHere.push(ctx.step.name);
        if (ctx.step.name !== 'first') return 'must not run in the stopping app';
        started.resolve();
        await go.promise;
        return { finished: 'during shutdown' };
      },
      { worker: { shutdownTimeoutMs: 30_000 } },
    );
    const worker = a.get(TaskerWorker);
    const running = await a.tasker.createTask({ ...CHAIN_TASK, context: {} });
    await started.promise;

    const closing = a.close();
    await waitFor('the worker to be stopping', () => !worker.accepting || undefined);
    // Work that arrives now is left for other workers (Tasker's connection stays open until the worker stopped).
    const arrived = await a.tasker.createTask({ ...PROBE_TASK, context: { late: true } });
    go.resolve();
    await closing;
    apps.length = 0;

    expect(ranHere).toEqual(['first']);
    expect(await stepRow(running.id, 'first')).toMatchObject({
      state: 'complete',
      attempts: 1,
      results: { finished: 'during shutdown' },
      lease_owner: null,
    });
    expect(await stepRow(running.id, 'second')).toMatchObject({ state: 'pending', attempts: 0, lease_owner: null });
    expect(await stepRow(arrived.id)).toMatchObject({ state: 'pending', attempts: 0, lease_owner: null });
    expect(a.events.filter((e) => e.taskId === running.id && e.event === 'tasker.step.completed')).toHaveLength(1);

    // Another worker takes over what was left, with the stored result of the step that finished during shutdown.
    const b = await boot((ctx) => ({ parents: ctx.results }));
    expect((await b.tasker.waitForTask(running.id, { timeoutMs: 20_000 })).steps.map((x) => [x.name, x.results])).toEqual([
      ['first', { finished: 'during shutdown' }],
      ['second', { parents: { first: { finished: 'during shutdown' } } }],
    ]);
    expect((await b.tasker.waitForTask(arrived.id, { timeoutMs: 20_000 })).state).toBe('complete');
  });

  it.each([
    ['stops when its signal aborts; the second app boots afterwards', true, false],
    ['ignores its signal; the second app already runs (rolling restart)', false, true],
  ] as const)('a step longer than shutdownTimeoutMs that %s: aborted, released without using up the attempt, run by the second app', async (_, obeys, secondFirst) => {
    const started = new Latch();
    const seen: { aborted?: boolean; reason?: unknown } = {};
    const a = await boot(
      (ctx: StepContext) => {
        started.resolve();
        return new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            seen.aborted = ctx.signal.aborted;
            seen.reason = ctx.signal.reason;
            if (obeys) reject(ctx.signal.reason);
          });
        });
      },
      { worker: { shutdownTimeoutMs: 200 } },
    );
    const owner = a.get(TaskerWorker).owner;
    const task = await a.tasker.createTask({ ...PROBE_TASK, context: {} });
    await started.promise;
    const second: ProbeRun = (ctx) => ({ by: 'second app', attempt: ctx.step.attempt });
    const early = secondFirst ? await boot(second) : undefined;
    await a.close();
    apps.splice(apps.indexOf(a), 1);

    expect(seen.aborted).toBe(true);
    expect((seen.reason as Error).message).toContain('shutting down');
    expect(a.events.some((e) => e.event === 'tasker.step.failed')).toBe(false);
    if (!early) {
      // Given back: pending, the attempt not used up, nobody's lease.
      expect(await stepRow(task.id)).toMatchObject({ state: 'pending', attempts: 0, lease_owner: null, results: null });
    }
    const b = early ?? (await boot(second));
    const done = await b.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(done.steps[0]).toMatchObject({ attempts: 1, results: { by: 'second app', attempt: 1 } });
    expect(await stepTrail(b, task.id)).toEqual([
      { from: 'pending', to: 'in_progress', attempt: 1, code: null, reason: undefined },
      { from: 'in_progress', to: 'pending', attempt: 1, code: null, reason: `Worker ${owner} is shutting down.` },
      { from: 'pending', to: 'in_progress', attempt: 1, code: null, reason: undefined },
      { from: 'in_progress', to: 'complete', attempt: 1, code: null, reason: undefined },
    ]);
  });

  describe('heartbeat (with the worker’s automatic lease renewal switched off)', () => {
    const LEASE_MS = 600;
    /** Boots an app whose only lease renewal is the step's own ctx.heartbeat(). */
    const bootWithoutRenewal = async (run: ProbeRun) => {
      const a = await boot(run, { worker: { leaseMs: LEASE_MS, sweepIntervalMs: 100 } });
      jest.spyOn(a.get(TaskerWorker) as unknown as { renewLeases(): Promise<void> }, 'renewLeases').mockResolvedValue(undefined);
      return a;
    };
    /** Whether the database clock is past the step's original lease by a margin (the sweeper runs every 100 ms). */
    const pastOriginalLease = async (taskId: string) =>
      withClient(async (c) => {
        const { rows } = await c.query(
          `SELECT now() > started_at + $2 * interval '1 millisecond' AS past FROM "${schema}".workflow_steps WHERE task_id = $1`,
          [taskId, LEASE_MS * 2.5],
        );
        return rows[0].past as boolean;
      });

    it('ctx.heartbeat() keeps a step that runs longer than leaseMs owned', async () => {
      const leases: number[] = [];
      let sweptWhileOwned = -1;
      const ref: { sweeper?: LeaseSweeper } = {};
      const a = await bootWithoutRenewal(async (ctx) => {
        while (!(await pastOriginalLease(ctx.task.id))) {
          await ctx.heartbeat();
          leases.push(new Date((await stepRow(ctx.task.id)).lease_expires_at).getTime());
          await new Promise((r) => setTimeout(r, 50)); // simulated work between heartbeats
        }
        sweptWhileOwned = await ref.sweeper!.sweep();
        return { beats: leases.length, aborted: ctx.signal.aborted };
      });
      ref.sweeper = a.get(LeaseSweeper);
      const task = await a.tasker.createTask({ ...PROBE_TASK, context: {} });
      const done = await a.tasker.waitForTask(task.id, { timeoutMs: 20_000 });

      expect(done.state).toBe('complete');
      expect(done.steps[0]).toMatchObject({ attempts: 1, results: { aborted: false } });
      expect(sweptWhileOwned).toBe(0);
      const startedAt = done.steps[0].startedAt!.getTime();
      expect(leases.length).toBeGreaterThan(1);
      expect(Math.max(...leases)).toBeGreaterThan(startedAt + LEASE_MS); // renewed beyond the original lease
      expect(leases).toEqual([...leases].sort((x, y) => x - y));
      expect((await stepTrail(a, task.id)).map((e) => [e.from, e.to, e.code])).toEqual([
        ['pending', 'in_progress', null],
        ['in_progress', 'complete', null],
      ]);
    });

    it('control: the same step without heartbeats loses its lease (LeaseExpiredError) and its late result is discarded', async () => {
      const a = await bootWithoutRenewal(async (ctx) => {
        if (ctx.step.attempt > 1) return { attempt: ctx.step.attempt };
        await waitFor('the first attempt to be reclaimed', async () => ((await stepRow(ctx.task.id)).attempts > 1 ? true : undefined));
        return { attempt: 1 };
      });
      const task = await a.tasker.createTask({ ...PROBE_TASK, context: {} });
      const done = await a.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
      await waitFor('the first attempt to end', () => a.get(TaskerWorker).inFlight === 0 || undefined);

      expect(done.steps[0]).toMatchObject({ state: 'complete', attempts: 2, results: { attempt: 2 } });
      expect((await stepTrail(a, task.id)).map((e) => [e.from, e.to, e.attempt, e.code])).toEqual([
        ['pending', 'in_progress', 1, null],
        ['in_progress', 'error', 1, 'LEASE_EXPIRED'],
        ['error', 'in_progress', 2, null],
        ['in_progress', 'complete', 2, null],
      ]);
    });

    it('ctx.heartbeat() after the lease was lost aborts ctx.signal, and the attempt records nothing', async () => {
      const lost = new Latch();
      const seen: { aborted?: boolean; reason?: string } = {};
      const a = await bootWithoutRenewal(async (ctx) => {
        if (ctx.step.attempt > 1) return { attempt: ctx.step.attempt };
        await lost.promise;
        await ctx.heartbeat();
        seen.aborted = ctx.signal.aborted;
        seen.reason = (ctx.signal.reason as Error)?.message;
        return { attempt: 1 };
      });
      const task = await a.tasker.createTask({ ...PROBE_TASK, context: {} });
      await waitFor('the first attempt to be reclaimed by the sweeper', async () => ((await stepRow(task.id)).attempts > 1 ? true : undefined));
      lost.resolve();
      const done = await a.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
      await waitFor('the first attempt to end', () => a.get(TaskerWorker).inFlight === 0 || undefined);

      expect(seen).toEqual({ aborted: true, reason: expect.stringContaining('lost its lease') });
      expect(done.steps[0]).toMatchObject({ state: 'complete', attempts: 2, results: { attempt: 2 } });
      expect((await stepTrail(a, task.id)).filter((e) => e.to === 'complete')).toHaveLength(1);
    });
  });

  it('a delayed task does not start before runAt, then completes', async () => {
    const ranAt: number[] = [];
    const a = await boot(() => {
      ranAt.push(Date.now());
      return 'ran';
    });
    const runAt = new Date(Date.now() + 1_500);
    const task = await a.tasker.createTask({ ...PROBE_TASK, context: {}, runAt });
    expect(task.runAt?.getTime()).toBe(runAt.getTime());
    const waiting = await a.tasker.getTask(task.id);
    expect(waiting.steps[0]).toMatchObject({ state: 'pending', attempts: 0, startedAt: null });

    const done = await a.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(done.steps[0].results).toBe('ran');
    expect(done.steps[0].startedAt!.getTime()).toBeGreaterThanOrEqual(runAt.getTime());
    expect(ranAt).toHaveLength(1);
    expect(ranAt[0]).toBeGreaterThanOrEqual(runAt.getTime());
    const trail = await a.tasker.getAuditTrail(task.id);
    const firstStart = trail.find((e) => e.to === 'in_progress')!;
    expect(firstStart.at.getTime()).toBeGreaterThanOrEqual(runAt.getTime());
  });
});
