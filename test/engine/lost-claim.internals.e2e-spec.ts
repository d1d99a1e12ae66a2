// Internals: swallows the answer to the claim_steps statement on the wire (matched by its SQL text), to lose the answer of a claim that committed.
import { Step, StepContext, TaskHandler } from 'nestjs-tasker';
import { TcpProxy } from '../faults/support/tcp-proxy';
import { expectConsistentAuditTrail } from '../support/audit-check';
import { databaseUrl, dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { Latch } from '../support/wait';

const runs: string[] = [];
/** Steps of tasks whose context names a hold wait for the test to release it (set up before the task exists). */
const holds = new Map<string, { started: Latch; go: Latch }>();

@TaskHandler({ name: 'once', namespace: 'reliability', version: '1.0.0' })
class RunOnceWorkflow {
  @Step({ retryable: false })
  async only(ctx: StepContext<{ hold?: string }>) {
    runs.push(`${ctx.task.id}/${ctx.step.attempt}`);
    const hold = ctx.task.context.hold ? holds.get(ctx.task.context.hold) : undefined;
    hold?.started.resolve();
    await hold?.go.promise;
    return 'ran';
  }
}

/**
 * A claim that committed while its worker never heard the answer (the connection went silent right
 * after the request): the step is in progress under that worker's lease, but nothing runs it. It
 * must be given back and run, not failed for a lapsed lease: a step that may run once would end in
 * error without having run at all.
 */
describe('a claim whose answer was lost', () => {
  const schema = uniqueSchema('lost_claim');
  let proxy: TcpProxy;
  let api: TestApp;
  let worker: TestApp | undefined;
  let viaProxy: string;

  beforeAll(async () => {
    const url = new URL(databaseUrl());
    proxy = await TcpProxy.start(Number(url.port || 5432));
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    viaProxy = url.toString();
    // The task is created (and the schema migrated) by an API-only app on a direct connection.
    api = await startApp(schema, [RunOnceWorkflow], { worker: { enabled: false } });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await proxy?.stop();
    await dropSchema(schema);
  });

  it('is given back by its worker and runs once: the step that may run only once is not failed without having run', async () => {
    const task = await api.tasker.createTask({ name: 'once', namespace: 'reliability', context: {} });
    // The worker's first claim takes the task; its answer is lost on the way back.
    const swallowed = proxy.swallowAnswers(/claim_steps/);
    worker = await startApp(schema, [RunOnceWorkflow], {
      databaseUrl: viaProxy,
      statementTimeoutMs: 1_000,
      worker: { leaseMs: 1_500, pollIntervalMs: 100, sweepIntervalMs: 100 },
    });
    expect(await swallowed).toBe(true);
    const done = await api.tasker.waitForTask(task.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('complete');
    expect(runs).toEqual([`${task.id}/1`]);
    const trail = await expectConsistentAuditTrail(api.tasker, done);
    expect(trail.filter((e) => e.stepName === 'only').map((e) => [e.from, e.to, e.attempt, e.error?.code ?? null])).toEqual([
      ['pending', 'in_progress', 1, null], // the claim whose answer was lost
      ['in_progress', 'pending', 1, null], // given back, unused
      ['pending', 'in_progress', 1, null],
      ['in_progress', 'complete', 1, null],
    ]);
  });

  it('an attempt that ran but whose outcome could not be stored within the lease is not given back: it lapses, and the step that may run once runs once', async () => {
    const hold = { started: new Latch(), go: new Latch() };
    holds.set('lapse', hold);
    const task = await api.tasker.createTask({ name: 'once', namespace: 'reliability', context: { hold: 'lapse' } });
    await hold.started.promise;
    // The database is out of reach for twice the lease: the outcome cannot be stored, claims fail meanwhile.
    proxy.down(3_000);
    hold.go.resolve();
    const done = await api.tasker.waitForTask(task.id, { timeoutMs: 30_000 });

    expect(runs.filter((r) => r.startsWith(`${task.id}/`))).toEqual([`${task.id}/1`]);
    expect(done.state).toBe('error');
    expect(done.steps[0].lastError).toMatchObject({ name: 'LeaseExpiredError', code: 'LEASE_EXPIRED' });
    await expectConsistentAuditTrail(api.tasker, done);
  });
});
