import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { StepContext, TaskDetail } from 'nestjs-tasker';
import { dropSchema, uniqueSchema } from '../support/database';
import { checkFlowLimits, FlowTask } from '../support/flow-limits';
import { describeViolations, transitionsFromAuditTrail } from '../support/limits-checker';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';
import { FLOW_LIMITS, flowProviders, flowTask } from '../fixtures/flow-control.workflows';

const ROOT = join(__dirname, '..', '..');

/**
 * SPEC §9.2: "a crashed worker's slot frees when its lease lapses". A worker in its own process
 * fills the places of a step concurrency key (call_crm, 2 per region), of a step without a key
 * (export, 3 in all) and of a task key (account_sync, 1 per account), while two more workers race
 * for the held steps; it is killed (kill -9) mid-attempt. Its attempts lapse, the places free, the
 * survivors run everything, and the checker proves from the audit trails that no limit was ever
 * exceeded, the dead worker's attempts counted as running until their lapse.
 */
describe('flow control: a worker killed while holding places', () => {
  const schema = uniqueSchema('flowcrash');
  const apps: TestApp[] = [];
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const a of apps) await a.close().catch(() => undefined);
    await dropSchema(schema);
  });

  /** Starts the crash worker (its own OS process); resolves once its worker runs. */
  async function spawnWorker(): Promise<{ child: ChildProcess; lines: string[] }> {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'test/fixtures/flow-control-crash-worker.ts'], {
      cwd: ROOT,
      env: { ...process.env, TASKER_SCHEMA: schema, LEASE_MS: '1000', CONCURRENCY: '10' },
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
    await waitFor(
      'the crash worker to boot',
      () => {
        if (child.exitCode !== null) throw new Error(`crash worker exited with ${child.exitCode}: ${stderr}`);
        return lines.includes('ready');
      },
      { timeoutMs: 40_000 },
    );
    return { child, lines };
  }

  it('frees the places of a kill -9ed worker when its leases lapse; the rest complete and no limit is ever exceeded', async () => {
    const api = await startApp(schema, flowProviders(() => Promise.reject(new Error('the API-only app must not run steps'))), {
      worker: { enabled: false },
    });
    apps.push(api);
    const { child, lines } = await spawnWorker();

    const crm = await api.tasker.createTasks(Array.from({ length: 6 }, (_, i) => ({ ...flowTask('crm_sync'), context: { i, region: 'eu' } })));
    const accounts = await api.tasker.createTasks([0, 1, 2].map((i) => ({ ...flowTask('account_sync'), context: { i, accountId: 'K' } })));
    const all = [...crm, ...accounts];
    const tasks: FlowTask[] = all.map((t) => ({ id: t.id, name: t.name, context: t.context }));
    const detail = () => Promise.all(all.map((t) => api.tasker.getTask(t.id)));
    const running = (ds: TaskDetail[], name: string) => ds.flatMap((d) => d.steps.filter((s) => s.name === name && s.state === 'in_progress'));

    // The dead-to-be worker fills every place: 2 eu calls, 3 exports, one account K task; the rest is held.
    await waitFor('the crash worker to hold every place', async () => {
      const ds = await detail();
      return (
        running(ds, 'call_crm').length === FLOW_LIMITS.crmCall.limit &&
        running(ds, 'export').length === FLOW_LIMITS.crmExport.limit &&
        running(ds, 'fetch').length === FLOW_LIMITS.accountSync.limit &&
        lines.filter((l) => l.startsWith('running ')).length === 6
      );
    });

    // Two more workers race for the held steps while the places are taken.
    const ranBySurvivors: string[] = [];
    const survivorBody = (ctx: StepContext) => {
      ranBySurvivors.push(`${ctx.task.id}/${ctx.step.name}#${ctx.step.attempt}`);
      return { by: 'survivor', attempt: ctx.step.attempt };
    };
    for (let i = 0; i < 2; i++) apps.push(await startApp(schema, flowProviders(survivorBody), { worker: { concurrency: 6, leaseMs: 1_000 } }));
    const held = await detail();
    for (const d of held.filter((x) => x.name === 'crm_sync' && x.steps.every((s) => s.state !== 'in_progress'))) {
      expect(d.steps.find((s) => s.name === 'call_crm')!.readiness.reason).toMatch(/^concurrency limit/);
    }

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(child.signalCode).toBe('SIGKILL');

    const done = await Promise.all(all.map((t) => apps[1].tasker.waitForTask(t.id, { timeoutMs: 45_000 })));
    expect(done.map((d) => d.state)).toEqual(all.map(() => 'complete'));

    // The six attempts of the dead worker lapsed and were run again by a survivor.
    const trails = await Promise.all(all.map((t) => apps[1].tasker.getAuditTrail(t.id)));
    const lapsed = trails.flat().filter((e) => e.from === 'in_progress' && e.to === 'error' && e.error?.code === 'LEASE_EXPIRED');
    expect(lapsed).toHaveLength(6);
    for (const e of lapsed) expect(ranBySurvivors).toContain(`${e.taskId}/${e.stepName}#2`);

    const report = checkFlowLimits(tasks, transitionsFromAuditTrail(trails));
    expect(describeViolations(report)).toEqual([]);
    expect(report.maxRunning.get('crm_sync.call_crm:eu')).toBe(FLOW_LIMITS.crmCall.limit);
    expect(report.maxRunning.get('crm_sync.export:')).toBe(FLOW_LIMITS.crmExport.limit);
    expect(report.maxRunning.get('account_sync:K')).toBe(1);
  }, 120_000);
});
