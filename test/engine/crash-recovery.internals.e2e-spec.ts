// Internals: LeaseSweeper.sweep() on demand, TaskerWorker's owner id and in-flight count, spies on StepRepository's writes and leases expired by UPDATE, to stage a lapsed owner's late write without waiting on timers.
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AuditEntry, StepContext } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { Latch, waitFor } from '../support/wait';
import { CHAIN_TASK, PROBE_TASK, probeAndChainProviders, probeProviders } from '../fixtures/durability-probe.workflow';
import { LeaseSweeper } from '../../libs/tasker/src/orchestration/lease.sweeper';
import { TaskerWorker } from '../../libs/tasker/src/orchestration/tasker.worker';
import { StepRepository } from '../../libs/tasker/src/persistence/step.repository';

const ROOT = join(__dirname, '..', '..');

/** The step's own transitions, in order, reduced to what the test is about. */
function stepTrail(trail: AuditEntry[], stepName = 'work') {
  return trail
    .filter((e) => e.stepName === stepName)
    .map((e) => ({ from: e.from, to: e.to, attempt: e.attempt, actor: e.actor, error: e.error ? { name: e.error.name, code: e.error.code } : null }));
}

async function stepRow(schema: string, taskId: string, name = 'work') {
  return withClient(async (c) => {
    const { rows } = await c.query(
      `SELECT state, attempts, lease_owner, results, last_error FROM "${schema}".workflow_steps WHERE task_id = $1 AND name = $2`,
      [taskId, name],
    );
    return rows[0] as { state: string; attempts: number; lease_owner: string | null; results: unknown; last_error: { code?: string } | null };
  });
}

describe('crash recovery', () => {
  const schema = uniqueSchema('crash');
  const apps: TestApp[] = [];
  const children: ChildProcess[] = [];

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
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await closeAll();
    await dropSchema(schema);
  });

  /** Starts the crash worker (a separate OS process) and resolves with it once its worker runs. */
  async function spawnWorker(): Promise<{ child: ChildProcess; owner: string; lines: string[] }> {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'test/fixtures/durability-crash-worker.ts'], {
      cwd: ROOT,
      env: { ...process.env, TASKER_SCHEMA: schema, LEASE_MS: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const lines: string[] = [];
    let stderr = '';
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = await waitFor(
      'the crash worker to boot',
      () => {
        if (child.exitCode !== null) throw new Error(`crash worker exited with ${child.exitCode}: ${stderr}`);
        return lines.find((l) => l.startsWith('ready '));
      },
      { timeoutMs: 30_000 },
    );
    return { child, owner: ready.slice('ready '.length), lines };
  }

  it('finishes the steps of a worker killed (kill -9) mid-attempt, after their leases expired; completed steps do not run again', async () => {
    // An API-only app creates the tasks, so the child is the only worker when the steps are claimed.
    const api = await boot(schema, probeAndChainProviders(() => Promise.reject(new Error('the API-only app must not run steps'))), {
      worker: { enabled: false },
    });
    const { child, owner: deadOwner, lines } = await spawnWorker();
    const probes = await api.tasker.createTasks([1, 2].map((n) => ({ ...PROBE_TASK, context: { n } })));
    const chain = await api.tasker.createTask({ ...CHAIN_TASK, context: {} });
    const running = [...probes.map((t) => [t.id, 'work']), [chain.id, 'second']];

    await waitFor('the crash worker to be running all three steps', async () => {
      for (const [id, name] of running) {
        const s = await stepRow(schema, id, name);
        if (!(s.state === 'in_progress' && s.lease_owner === deadOwner && lines.includes(`running ${id} ${name} 1`))) return undefined;
      }
      return true;
    });
    expect(await stepRow(schema, chain.id, 'first')).toMatchObject({ state: 'complete', results: { first: 'done by the crash worker' } });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
    for (const [id, name] of running) expect((await stepRow(schema, id, name)).state).toBe('in_progress'); // nobody noticed yet

    const ranBySurvivor: string[] = [];
    const survivor = await boot(
      schema,
      probeAndChainProviders((ctx: StepContext) => {
        ranBySurvivor.push(`${ctx.task.id}/${ctx.step.name}`);
        return { by: 'survivor', attempt: ctx.step.attempt, parents: ctx.results };
      }),
      { worker: { leaseMs: 1_000 } },
    );
    const survivorOwner = survivor.get(TaskerWorker).owner;
    for (const [id, name] of running) {
      const done = await survivor.tasker.waitForTask(id, { timeoutMs: 30_000 });
      expect(done.state).toBe('complete');
      expect(done.steps.find((s) => s.name === name)).toMatchObject({ state: 'complete', attempts: 2, results: { by: 'survivor', attempt: 2 } });

      const trail = await survivor.tasker.getAuditTrail(id);
      expect(stepTrail(trail, name)).toEqual([
        { from: 'pending', to: 'in_progress', attempt: 1, actor: deadOwner, error: null },
        { from: 'in_progress', to: 'error', attempt: 1, actor: 'tasker:sweeper', error: { name: 'LeaseExpiredError', code: 'LEASE_EXPIRED' } },
        { from: 'error', to: 'in_progress', attempt: 2, actor: survivorOwner, error: null },
        { from: 'in_progress', to: 'complete', attempt: 2, actor: survivorOwner, error: null },
      ]);
      expect(trail.filter((e) => !e.stepName).map((e) => [e.from, e.to])).toEqual([
        [null, 'pending'],
        ['pending', 'in_progress'],
        ['in_progress', 'complete'],
      ]);
      const failed = survivor.events.filter((e) => e.event === 'tasker.step.failed' && e.taskId === id);
      expect(failed).toEqual([expect.objectContaining({ attempt: 1, willRetry: true, error: expect.objectContaining({ code: 'LEASE_EXPIRED' }) })]);
    }
    // The chain's completed first step was not run again, and its stored result reached the second step.
    expect(ranBySurvivor.sort()).toEqual(running.map(([id, name]) => `${id}/${name}`).sort());
    const chainDone = await survivor.tasker.getTask(chain.id);
    expect(chainDone.steps.find((s) => s.name === 'first')).toMatchObject({ attempts: 1, results: { first: 'done by the crash worker' } });
    expect(chainDone.steps.find((s) => s.name === 'second')?.results).toMatchObject({ parents: { first: { first: 'done by the crash worker' } } });
  }, 60_000);

  describe('fencing: an attempt whose lease was taken over cannot overwrite the new owner', () => {
    it.each([
      ['returns', 'while the new owner still runs'],
      ['throws', 'while the new owner still runs'],
      ['returns', 'after the new owner completed'],
      ['throws', 'after the new owner completed'],
    ] as const)('old attempt %s %s', async (oldOutcome, when) => {
      const oldStarted = new Latch<number>();
      const oldGo = new Latch();
      const newStarted = new Latch<number>();
      const newGo = new Latch();
      // Only explicit sweeps (the interval is out of reach), so the test decides when the lease is taken over.
      const noSweeps = { sweepIntervalMs: 600_000 };
      // The old owner: one slot (so it cannot claim the step again itself) and a lease it would renew only every 20 s.
      const oldApp = await boot(
        schema,
        probeProviders(async (ctx) => {
          oldStarted.resolve(ctx.step.attempt);
          await oldGo.promise;
          if (oldOutcome === 'throws') throw new Error('the old owner failed late');
          return { by: 'old' };
        }),
        { worker: { concurrency: 1, leaseMs: 60_000, ...noSweeps } },
      );
      // Watch the old owner's late write reach the database (and be refused there by the lease token).
      const oldRepo = oldApp.get(StepRepository);
      // A success goes out in a batch, with or without the worker's next claim riding along.
      const lateWrites =
        oldOutcome === 'returns' ? [jest.spyOn(oldRepo, 'completeAndClaim'), jest.spyOn(oldRepo, 'completeMany')] : [jest.spyOn(oldRepo, 'fail')];
      const lateResults = () => lateWrites.flatMap((s) => s.mock.results.map((r) => r.value as Promise<unknown>));
      const written = async (v: Promise<unknown>) => {
        const answer = await v;
        return Array.isArray(answer) ? answer : (answer as { transitions: unknown[] }).transitions;
      };
      const task = await oldApp.tasker.createTask({ ...PROBE_TASK, context: { oldOutcome, when } });
      expect(await oldStarted.promise).toBe(1);

      const newApp = await boot(
        schema,
        probeProviders(async (ctx) => {
          newStarted.resolve(ctx.step.attempt);
          await newGo.promise;
          return { by: 'new', attempt: ctx.step.attempt };
        }),
        { worker: { concurrency: 2, ...noSweeps } },
      );
      // The old owner stops renewing (simulated): its lease lapses in the database, and a sweep reclaims it.
      await withClient((c) =>
        c.query(`UPDATE "${schema}".workflow_steps SET lease_expires_at = now() - interval '1 s' WHERE task_id = $1`, [task.id]),
      );
      expect(await newApp.get(LeaseSweeper).sweep()).toBe(1);
      expect(await newStarted.promise).toBe(2);
      const newOwner = newApp.get(TaskerWorker).owner;
      const oldWorker = oldApp.get(TaskerWorker);

      if (when === 'after the new owner completed') {
        newGo.resolve();
        expect((await newApp.tasker.waitForTask(task.id, { timeoutMs: 20_000 })).state).toBe('complete');
      }
      oldGo.resolve();
      await waitFor('the old attempt to be settled by its worker', () => oldWorker.inFlight === 0 || undefined);
      expect(lateResults()).toHaveLength(1);
      expect(await written(lateResults()[0])).toEqual([]);

      if (when === 'while the new owner still runs') {
        // The late outcome changed nothing: the step is still the new owner's running attempt.
        expect(await stepRow(schema, task.id)).toMatchObject({ state: 'in_progress', attempts: 2, lease_owner: newOwner, results: null });
        newGo.resolve();
      }
      const done = await newApp.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
      expect(done.state).toBe('complete');
      expect(done.steps[0]).toMatchObject({ state: 'complete', attempts: 2, results: { by: 'new', attempt: 2 } });

      const trail = stepTrail(await newApp.tasker.getAuditTrail(task.id));
      expect(trail.map((e) => [e.from, e.to, e.attempt, e.error?.code ?? null])).toEqual([
        ['pending', 'in_progress', 1, null],
        ['in_progress', 'error', 1, 'LEASE_EXPIRED'],
        ['error', 'in_progress', 2, null],
        ['in_progress', 'complete', 2, null],
      ]);
      // The old owner published nothing about the attempt it lost.
      expect(oldApp.events.filter((e) => e.taskId === task.id).map((e) => e.event)).toEqual([
        'tasker.task.created',
        'tasker.task.started',
        'tasker.step.started',
      ]);
    });
  });
});
