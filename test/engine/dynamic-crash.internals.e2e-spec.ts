// Internals: TaskerWorker's owner id (who ran what), LeaseSweeper.sweep() on demand (a waiting step holds no lease to lapse).
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AuditEntry, StepContext } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';
import { expectConsistentAuditTrail, expectTrailEndsWithTask } from '../support/audit-check';
import { DCRASH, DYNAMIC_CRASH_HANDLERS, dynamicCrashHooks } from '../fixtures/dynamic-crash.workflow';
import { LeaseSweeper } from '../../libs/tasker/src/orchestration/lease.sweeper';
import { TaskerWorker } from '../../libs/tasker/src/orchestration/tasker.worker';

/**
 * Workers killed (kill -9, a separate OS process: test/fixtures/dynamic-crash-worker.ts) in the
 * middle of the dynamic parts of a workflow (SPEC §8): while evaluating a map step's items, with its
 * expansion statement in flight, while a step waits for a signal, sleeps, or waits for its child.
 * Every fault is driven by a state seen in the database, never by time.
 */

const ROOT = join(__dirname, '..', '..');

const trailOf = (trail: AuditEntry[], step: string) =>
  trail.filter((e) => e.stepName === step).map((e) => [e.from, e.to, e.attempt ?? null, e.actor ?? null, e.error?.code ?? null, e.reason ?? null]);

describe('workers killed during dynamic steps', () => {
  const schema = uniqueSchema('dcrash');
  const apps: TestApp[] = [];
  const children: ChildProcess[] = [];
  /** What this process's apps ran: `${taskId}/${step}#${attempt}`. */
  const ranHere: string[] = [];

  const boot = async (...args: Parameters<typeof startApp>) => {
    const a = await startApp(...args);
    apps.push(a);
    return a;
  };
  const closeAll = async () => {
    while (apps.length) await apps.pop()!.close().catch(() => undefined);
  };

  beforeAll(() => {
    dynamicCrashHooks.body = (ctx: StepContext, value: unknown) => {
      ranHere.push(`${ctx.task.id}/${ctx.step.name}#${ctx.step.attempt}`);
      return value;
    };
    dynamicCrashHooks.map = (ctx) => {
      ranHere.push(`${ctx.task.id}/fan:map#${ctx.step.attempt}`);
      return Array.from({ length: ctx.task.context.n }, (_, i) => `item-${i}`);
    };
  });
  afterEach(closeAll);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await closeAll();
    if (!process.env.KEEP_SCHEMA) await dropSchema(schema);
  });

  /** An app that only creates tasks and reads them (its worker is off). */
  const api = () => boot(schema, DYNAMIC_CRASH_HANDLERS, { worker: { enabled: false } });
  /** A worker in this process that takes over: short leases, sweeps every 100 ms. */
  const survivor = () => boot(schema, DYNAMIC_CRASH_HANDLERS, { worker: { leaseMs: 1_000 } });

  async function spawnWorker(env: Record<string, string> = {}) {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'test/fixtures/dynamic-crash-worker.ts'], {
      cwd: ROOT,
      env: { ...process.env, TASKER_SCHEMA: schema, LEASE_MS: '1000', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
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
    const kill = async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      expect(child.signalCode).toBe('SIGKILL');
    };
    return { child, owner: ready.slice('ready '.length), lines, kill };
  }

  const stepRow = (taskId: string, name: string) =>
    withClient(async (c) => {
      const { rows } = await c.query<{ state: string; attempts: number; lease_owner: string | null; lease_token: string | null }>(
        `SELECT state, attempts, lease_owner, lease_token FROM "${schema}".workflow_steps WHERE task_id = $1 AND name = $2`,
        [taskId, name],
      );
      return rows[0];
    });
  const instanceRows = (taskId: string) =>
    withClient(async (c) => (await c.query<{ name: string; item: string }>(
      `SELECT name, item FROM "${schema}".workflow_steps WHERE task_id = $1 AND map_step_id IS NOT NULL ORDER BY map_index`,
      [taskId],
    )).rows);

  it('killed while evaluating a map step’s items: after the lease lapses another worker evaluates and expands once; the task completes', async () => {
    const a = await api();
    const dead = await spawnWorker();
    const t = await a.tasker.createTask({ name: 'mapper', namespace: DCRASH, context: { n: 6 } });
    await waitFor('the crash worker to be evaluating the map', async () => {
      const s = await stepRow(t.id, 'fan');
      return s?.state === 'in_progress' && s.lease_owner === dead.owner && dead.lines.includes(`running ${t.id} fan:map 1`);
    });
    await dead.kill();
    expect(await instanceRows(t.id)).toEqual([]);

    const s = await survivor();
    const survivorOwner = s.get(TaskerWorker).owner;
    const done = await s.tasker.waitForTask(t.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('complete');
    const items = Array.from({ length: 6 }, (_, i) => `item-${i}`);
    expect((await instanceRows(t.id)).map((r) => [r.name, r.item])).toEqual(items.map((x, i) => [`fan[${i}]`, x]));
    expect(done.steps.find((x) => x.name === 'end')!.results).toEqual(items.map((x) => `${x}!`));
    // Each instance ran once, here; the map function ran here once, as attempt 2.
    const mine = ranHere.filter((r) => r.startsWith(`${t.id}/`)).sort();
    expect(mine).toEqual([`${t.id}/end#1`, `${t.id}/fan:map#2`, ...items.map((_, i) => `${t.id}/fan[${i}]#1`)].sort());

    const trail = await expectConsistentAuditTrail(s.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    expect(trailOf(trail, 'fan')).toEqual([
      ['pending', 'in_progress', 1, dead.owner, null, null],
      ['in_progress', 'error', 1, 'tasker:sweeper', 'LEASE_EXPIRED', null],
      ['error', 'in_progress', 2, survivorOwner, null, null],
      ['in_progress', 'waiting', 2, survivorOwner, null, 'expanded into 6 instances'],
      ['waiting', 'complete', 2, null, null, null],
    ]);
  }, 60_000);

  it('killed with its expansion statement in flight (held on the task’s lock): the expansion is stored once, never redone', async () => {
    const a = await api();
    const dead = await spawnWorker({ MAP: 'stdin' });
    const t = await a.tasker.createTask({ name: 'mapper', namespace: DCRASH, context: { n: 4 } });
    await waitFor('the crash worker to be evaluating the map', async () => {
      const s = await stepRow(t.id, 'fan');
      return s?.state === 'in_progress' && s.lease_owner === dead.owner && dead.lines.includes(`running ${t.id} fan:map 1`);
    });
    // Hold the task's lock, let the map function return: its expand_map statement waits for the lock.
    await withClient(async (holder) => {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}".tasks WHERE id = $1 FOR UPDATE`, [t.id]);
      dead.child.stdin!.write('go\n');
      // Only the crash worker's outcome of the map step can wait for this lock (its claims and sweeps
      // skip locked rows). Found by the lock, not by pg_stat_activity.query: that column may still
      // show the connection's previous statement while the next one waits.
      const backend = await waitFor('the expansion to wait for the task’s lock', async () => {
        const { rows } = await holder.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid))`,
        );
        return dead.lines.includes(`mapped ${t.id}`) && rows.length === 1 && rows[0].pid;
      });
      await dead.kill();
      await holder.query('COMMIT');
      // The server finishes the statement of the client that died, then notices it is gone.
      await waitFor('the dead worker’s backend to end', async () => {
        const { rows } = await holder.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [backend]);
        return rows.length === 0;
      });
    });

    const s = await survivor();
    const done = await s.tasker.waitForTask(t.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('complete');
    const items = Array.from({ length: 4 }, (_, i) => `item-${i}`);
    expect((await instanceRows(t.id)).map((r) => r.item)).toEqual(items);
    expect(done.steps.find((x) => x.name === 'end')!.results).toEqual(items.map((x) => `${x}!`));
    const trail = await expectConsistentAuditTrail(s.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    const expansions = trail.filter((e) => e.stepName === 'fan' && e.to === 'waiting');
    expect(expansions).toHaveLength(1);
    const mine = ranHere.filter((r) => r.startsWith(`${t.id}/`)).sort();
    if (expansions[0].actor === dead.owner) {
      // The statement committed although its client was gone: the survivor ran the instances, never the map function.
      expect(trailOf(trail, 'fan')).toEqual([
        ['pending', 'in_progress', 1, dead.owner, null, null],
        ['in_progress', 'waiting', 1, dead.owner, null, 'expanded into 4 instances'],
        ['waiting', 'complete', 1, null, null, null],
      ]);
      expect(mine).toEqual([`${t.id}/end#1`, ...items.map((_, i) => `${t.id}/fan[${i}]#1`)].sort());
    } else {
      // Rolled back: the survivor evaluated the items again, after the lease lapsed.
      expect(trailOf(trail, 'fan').map((e) => e.slice(0, 3))).toEqual([
        ['pending', 'in_progress', 1],
        ['in_progress', 'error', 1],
        ['error', 'in_progress', 2],
        ['in_progress', 'waiting', 2],
        ['waiting', 'complete', 2],
      ]);
      expect(mine).toEqual([`${t.id}/end#1`, `${t.id}/fan:map#2`, ...items.map((_, i) => `${t.id}/fan[${i}]#1`)].sort());
    }
  }, 60_000);

  it('killed while a step waits for a signal: the wait holds no lease; a signal sent by another process completes it', async () => {
    const a = await api();
    const dead = await spawnWorker();
    const t = await a.tasker.createTask({ name: 'approval', namespace: DCRASH, context: {} });
    await waitFor('the step to wait for its signal', async () => (await stepRow(t.id, 'ask'))?.state === 'waiting');
    expect(await stepRow(t.id, 'ask')).toMatchObject({ state: 'waiting', attempts: 1, lease_owner: null, lease_token: null });
    await dead.kill();

    const s = await boot(schema, DYNAMIC_CRASH_HANDLERS, { worker: { leaseMs: 1_000, sweepIntervalMs: 600_000 } });
    expect(await s.get(LeaseSweeper).sweep()).toBe(0); // nothing to expire: the waiting step holds no lease
    expect((await stepRow(t.id, 'ask')).state).toBe('waiting');

    await a.tasker.signal(t.id, 'go', { ok: true }, { actor: 'carol', reason: 'approved' });
    const done = await s.tasker.waitForTask(t.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('complete');
    expect(done.steps.find((x) => x.name === 'after')!.results).toEqual({ got: { ok: true } });
    const trail = await expectConsistentAuditTrail(s.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    expect(trailOf(trail, 'ask')).toEqual([
      ['pending', 'in_progress', 1, dead.owner, null, null],
      ['in_progress', 'waiting', 1, dead.owner, null, 'waiting for signal "go"'],
      ['waiting', 'complete', 1, 'carol', null, 'signal "go": approved'],
    ]);
    expect(ranHere.filter((r) => r.startsWith(`${t.id}/`))).toEqual([`${t.id}/after#1`]);
  }, 60_000);

  it('sleep surviving a restart: the worker is killed while the step sleeps; the restarted worker completes it without running its body again', async () => {
    const a = await api();
    const first = await spawnWorker();
    const t = await a.tasker.createTask({ name: 'nap', namespace: DCRASH, context: { ms: 1_500 } });
    await waitFor('the step to sleep', async () => (await stepRow(t.id, 'nap'))?.state === 'waiting');
    await first.kill();

    const second = await spawnWorker();
    const done = await a.tasker.waitForTask(t.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('complete');
    expect(done.steps.find((x) => x.name === 'after')!.results).toEqual({ woke: true, nap: null });
    expect(done.steps.find((x) => x.name === 'nap')).toMatchObject({ state: 'complete', attempts: 1 });
    const trail = await expectConsistentAuditTrail(a.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    const nap = trailOf(trail, 'nap');
    expect(nap.map((e) => e.slice(0, 5))).toEqual([
      ['pending', 'in_progress', 1, first.owner, null],
      ['in_progress', 'waiting', 1, first.owner, null],
      ['waiting', 'in_progress', 1, second.owner, null],
      ['in_progress', 'complete', 1, second.owner, null],
    ]);
    expect(nap[1][5]).toMatch(/^sleeping until \d{4}-\d\d-\d\dT/);
    // The body ran once, in the first worker; the second only recorded the end of the sleep and ran `after`.
    expect(first.lines.filter((l) => l.startsWith(`running ${t.id} `))).toEqual([`running ${t.id} nap 1`]);
    expect(second.lines.filter((l) => l.startsWith(`running ${t.id} `))).toEqual([`running ${t.id} after 1`]);
    await second.kill();
  }, 60_000);

  it('killed while its child task runs: the child is created once, finished by another worker, and the parent completes', async () => {
    const a = await api();
    const dead = await spawnWorker();
    const t = await a.tasker.createTask({ name: 'parent', namespace: DCRASH, context: { amount: 9 } });
    const childId = await waitFor('the child’s step to run in the crash worker', async () => {
      const { rows } = await withClient((c) => c.query<{ id: string }>(`SELECT id::text FROM "${schema}".tasks WHERE parent_task_id = $1`, [t.id]));
      const id = rows[0]?.id;
      return id && (await stepRow(id, 'charge'))?.state === 'in_progress' && dead.lines.includes(`running ${id} charge 1`) ? id : undefined;
    });
    expect((await stepRow(t.id, 'pay')).state).toBe('waiting');
    await dead.kill();

    const s = await survivor();
    const done = await s.tasker.waitForTask(t.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('complete');
    expect(done.steps.find((x) => x.name === 'after')!.results).toEqual({ taskId: childId, results: { charge: { charged: 9 } } });
    const { rows } = await withClient((c) => c.query(`SELECT id FROM "${schema}".tasks WHERE parent_task_id = $1`, [t.id]));
    expect(rows).toHaveLength(1);
    const child = await s.tasker.getTask(childId);
    expect(child).toMatchObject({ state: 'complete', parentTaskId: t.id, parentStepName: 'pay' });
    expect(child.steps[0]).toMatchObject({ state: 'complete', attempts: 2 });
    expectTrailEndsWithTask(await expectConsistentAuditTrail(s.tasker, child), 'complete');
    const trail = await expectConsistentAuditTrail(s.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    expect(trailOf(trail, 'pay').map((e) => e.slice(0, 3))).toEqual([
      ['pending', 'in_progress', 1],
      ['in_progress', 'waiting', 1],
      ['waiting', 'in_progress', 1],
      ['in_progress', 'complete', 1],
    ]);
  }, 60_000);
});
