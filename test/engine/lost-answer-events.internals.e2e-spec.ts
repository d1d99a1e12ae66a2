// Internals: swallows the answers of the claim_steps and complete_one statements on the wire (matched by their prepared statements' names), and maps the audit trail to events with the engine's own mapping.
import { Logger } from '@nestjs/common';
import { DependsOn, Step, TaskerEventPayload, TaskHandler } from 'nestjs-tasker';
import { TcpProxy } from '../faults/support/tcp-proxy';
import { expectConsistentAuditTrail } from '../support/audit-check';
import { databaseUrl, dropSchema, uniqueSchema } from '../support/database';
import { compareTrailEvents } from '../support/event-check';
import { startApp, TestApp } from '../support/tasker-app';

@TaskHandler({ name: 'pair', namespace: 'lost_answers', version: '1.0.0' })
class PairWorkflow {
  @Step()
  first() {
    return 1;
  }

  @Step()
  @DependsOn('first')
  second() {
    return 2;
  }
}

/**
 * A statement of the worker that committed while its answer never arrived (the connection went
 * silent right after the request): the events of what committed are still published, once each.
 * Every transition of the task's audit trail that stands for an event has exactly one event,
 * published by one of the processes.
 */
describe('events of a change whose answer was lost', () => {
  const schema = uniqueSchema('lost_events');
  let proxy: TcpProxy;
  let api: TestApp;
  let viaProxy: string;
  const workers: TestApp[] = [];
  const warn = jest.spyOn(Logger.prototype, 'warn');

  beforeAll(async () => {
    const url = new URL(databaseUrl());
    proxy = await TcpProxy.start(Number(url.port || 5432));
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    viaProxy = url.toString();
    api = await startApp(schema, [PairWorkflow], { worker: { enabled: false } });
  });
  afterAll(async () => {
    warn.mockRestore();
    for (const w of workers) await w.close();
    await api?.close();
    await proxy?.stop();
    await dropSchema(schema);
  });

  const startWorker = async () => {
    const w = await startApp(schema, [PairWorkflow], {
      databaseUrl: viaProxy,
      statementTimeoutMs: 1_000,
      worker: { leaseMs: 3_000, pollIntervalMs: 100, sweepIntervalMs: 100 },
    });
    workers.push(w);
    return w;
  };
  const published = (): TaskerEventPayload[] => [api, ...workers].flatMap((a) => a.events);

  async function expectEachEventOnce(taskId: string) {
    const done = await api.tasker.waitForTask(taskId, { timeoutMs: 30_000 });
    expect(done.state).toBe('complete');
    const trail = await expectConsistentAuditTrail(api.tasker, done);
    // Events may come after the task settled (read back once the database answered): wait for them.
    const deadline = Date.now() + 10_000;
    let diff = compareTrailEvents(trail, published().filter((e) => e.taskId === taskId));
    while (diff.missing.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      diff = compareTrailEvents(trail, published().filter((e) => e.taskId === taskId));
    }
    expect(diff).toEqual({ missing: [], extra: [] });
    return trail;
  }

  it("a claim's lost answer: the started events of what it claimed are published (once), then the steps are given back", async () => {
    const task = await api.tasker.createTask({ name: 'pair', namespace: 'lost_answers', context: {} });
    const swallowed = proxy.swallowAnswers(/claim_steps/);
    await startWorker();
    expect(await swallowed).toBe(true);
    const trail = await expectEachEventOnce(task.id);
    // The lost claim's start is in the trail, and so its step.started went out.
    expect(trail.filter((e) => e.stepName === 'first' && e.to === 'in_progress')).toHaveLength(2);
  });

  it("an outcome's lost answer: its completion events are published once, and no 'discarded' warning is logged", async () => {
    warn.mockClear();
    const task = await api.tasker.createTask({ name: 'pair', namespace: 'lost_answers', context: {} });
    // The next success stored by the worker commits; its answer never comes back. The retry finds the step done.
    const swallowed = proxy.swallowAnswers(/complete_one/);
    expect(await swallowed).toBe(true);
    await expectEachEventOnce(task.id);
    expect(warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('was discarded'))).toEqual([]);
  });
});
