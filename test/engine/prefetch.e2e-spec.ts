import type { StepContext, TaskerModuleOptions } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { Latch, waitFor } from '../support/wait';
import { PROBE_TASK, ProbeRun, probeProviders } from '../fixtures/durability-probe.workflow';

/**
 * worker.prefetch: steps claimed beyond `concurrency` are held, started as running ones finish,
 * kept leased while they wait, given back at shutdown and settled at once when their task is
 * cancelled. Each test has a schema of its own.
 */
describe('worker.prefetch', () => {
  let schema: string;
  const apps: TestApp[] = [];
  const boot = async (run: ProbeRun, worker: TaskerModuleOptions['worker']) => {
    const a = await startApp(schema, probeProviders(run), { worker });
    apps.push(a);
    return a;
  };
  /** The probe steps in progress: how many, and their leases' owners. */
  const inProgress = () =>
    withClient(async (c) => {
      const { rows } = await c.query(
        `SELECT task_id::text, attempts, lease_owner, lease_expires_at FROM "${schema}".workflow_steps WHERE state = 'in_progress' ORDER BY id`,
      );
      return rows as { task_id: string; attempts: number; lease_owner: string; lease_expires_at: Date }[];
    });
  const stepOf = (taskId: string) =>
    withClient(async (c) => {
      const { rows } = await c.query(`SELECT state, attempts, lease_owner FROM "${schema}".workflow_steps WHERE task_id = $1`, [taskId]);
      return rows[0] as { state: string; attempts: number; lease_owner: string | null };
    });
  /** A body that notes its task, then waits until `go` opens. */
  const waitingBody = (ran: string[], go: Latch) => async (ctx: StepContext) => {
    ran.push(ctx.task.id);
    await go.promise;
    return 'done';
  };
  const createTasks = async (a: TestApp, n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await a.tasker.createTask({ ...PROBE_TASK, context: { i } })).id);
    return ids;
  };

  beforeEach(() => {
    schema = uniqueSchema('prefetch');
  });
  afterEach(async () => {
    while (apps.length) await apps.pop()!.close().catch(() => undefined);
    await dropSchema(schema);
  });

  it('holds up to concurrency + prefetch steps, runs at most concurrency bodies at once, and runs each held step once', async () => {
    const go = new Latch();
    const started: string[] = [];
    let running = 0;
    let most = 0;
    const a = await boot(
      async (ctx: StepContext) => {
        started.push(ctx.task.id);
        most = Math.max(most, ++running);
        await go.promise;
        running--;
        return { attempt: ctx.step.attempt };
      },
      { concurrency: 2, prefetch: 3 },
    );
    const ids = await createTasks(a, 8);

    const held = await waitFor('five steps claimed while two run', async () => {
      const rows = await inProgress();
      return started.length === 2 && rows.length === 5 && rows;
    });
    expect(new Set(held.map((r) => r.lease_owner)).size).toBe(1);
    expect(held.every((r) => r.attempts === 1)).toBe(true);
    expect(started).toHaveLength(2);

    go.resolve();
    for (const id of ids) expect((await a.tasker.waitForTask(id, { timeoutMs: 20_000 })).state).toBe('complete');
    expect(most).toBe(2);
    expect(started.sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect((await a.tasker.getTask(id)).steps[0]).toMatchObject({ attempts: 1, results: { attempt: 1 } });
      const mine = a.events.filter((e) => e.taskId === id && e.event.startsWith('tasker.step.')).map((e) => e.event);
      expect(mine).toEqual(['tasker.step.started', 'tasker.step.completed']);
    }
  });

  it('at shutdown, gives back the held steps at once, without using up their attempt; another worker runs them', async () => {
    const go = new Latch();
    const ranHere: string[] = [];
    const a = await boot(waitingBody(ranHere, go), { concurrency: 1, prefetch: 2, shutdownTimeoutMs: 30_000 });
    const ids = await createTasks(a, 3);
    await waitFor('three steps claimed, one running', async () => ranHere.length === 1 && (await inProgress()).length === 3);
    const [running] = ranHere;
    const held = ids.filter((id) => id !== running);

    const closing = a.close();
    // Given back while the running step still runs: pending, the attempt not used up, nobody's lease.
    await waitFor('the held steps given back', async () => {
      const steps = await Promise.all(held.map(stepOf));
      return steps.every((s) => s.state === 'pending' && s.attempts === 0 && s.lease_owner === null);
    });
    expect((await stepOf(running)).state).toBe('in_progress');
    go.resolve();
    await closing;
    apps.length = 0;

    expect(ranHere).toEqual([running]);
    expect((await stepOf(running)).state).toBe('complete');
    expect(a.events.some((e) => e.event === 'tasker.step.failed')).toBe(false);

    const b = await boot((ctx: StepContext) => ({ attempt: ctx.step.attempt }), { concurrency: 2 });
    const trail = (await b.tasker.getAuditTrail(held[0])).filter((e) => e.stepName).slice(0, 2);
    expect(trail.map((e) => [e.from, e.to, e.attempt])).toEqual([
      ['pending', 'in_progress', 1],
      ['in_progress', 'pending', 1],
    ]);
    expect(trail[1].reason).toContain('shutting down');
    for (const id of held) {
      const done = await b.tasker.waitForTask(id, { timeoutMs: 20_000 });
      expect(done.steps[0]).toMatchObject({ state: 'complete', attempts: 1, results: { attempt: 1 } });
    }
  });

  it("settles a held step at once when its task is cancelled, without running its body", async () => {
    const go = new Latch();
    const ranHere: string[] = [];
    const a = await boot(waitingBody(ranHere, go), { concurrency: 1, prefetch: 1 });
    const ids = await createTasks(a, 2);
    await waitFor('two steps claimed, one running', async () => ranHere.length === 1 && (await inProgress()).length === 2);
    const held = ids.find((id) => id !== ranHere[0])!;

    expect((await a.tasker.cancelTask(held, { actor: 'test', reason: 'no longer needed' })).state).toBe('cancelled');
    // Settled while the other body still runs: no place had to free up first.
    await waitFor('the held attempt settled', async () => (await stepOf(held)).state !== 'in_progress');
    expect(go.opened).toBe(false);
    go.resolve();
    expect((await a.tasker.waitForTask(ranHere[0], { timeoutMs: 20_000 })).state).toBe('complete');
    expect(ranHere).not.toContain(held);
    expect((await a.tasker.getTask(held)).state).toBe('cancelled');
  });

  it('keeps the lease of a held step while it waits: it runs as its first attempt', async () => {
    const go = new Latch();
    const ranHere: { id: string; attempt: number }[] = [];
    const a = await boot(
      async (ctx: StepContext) => {
        ranHere.push({ id: ctx.task.id, attempt: ctx.step.attempt });
        await go.promise;
        return 'done';
      },
      // The sweep expires a lease not renewed within 300 ms, and runs every 100 ms.
      { concurrency: 1, prefetch: 1, leaseMs: 300, sweepIntervalMs: 100 },
    );
    const ids = await createTasks(a, 2);
    const first = await waitFor('two steps claimed, one running', async () => ranHere.length === 1 && (await inProgress()).length === 2 && ranHere[0].id);
    const held = ids.find((id) => id !== first)!;
    const leaseOf = async () => (await inProgress()).find((r) => r.task_id === held)?.lease_expires_at.getTime();
    const before = (await leaseOf())!;
    // Renewed several times over (each renewal moves it forward): well past the first lease's end.
    await waitFor('the held lease renewed past three leases', async () => ((await leaseOf()) ?? 0) > before + 900, { timeoutMs: 30_000 });
    expect(await stepOf(held)).toMatchObject({ state: 'in_progress', attempts: 1 });

    go.resolve();
    expect((await a.tasker.waitForTask(held, { timeoutMs: 20_000 })).state).toBe('complete');
    expect(ranHere).toEqual([
      { id: first, attempt: 1 },
      { id: held, attempt: 1 },
    ]);
    expect(a.events.some((e) => e.event === 'tasker.step.failed')).toBe(false);
  });
});
