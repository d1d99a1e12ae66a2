import { Injectable, OnModuleInit } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { PermanentError, StepEventPayload, StepFailedPayload, TaskDetail, TaskerEventPayload, TaskerEvents } from 'nestjs-tasker';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { expectConsistentAuditTrail } from '../support/audit-check';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { DiamondWorkflow } from '../fixtures/diamond.workflow';
import { Behaviour, failFirst, VariationsWorkflow } from '../fixtures/variations.workflow';

const stepOf = (e: TaskerEventPayload) => ('stepName' in e ? e.stepName : undefined);

describe('lifecycle events', () => {
  const schema = uniqueSchema('evt');
  let t: TestApp;
  let behaviour: Behaviour;

  beforeAll(async () => {
    t = await startApp(schema, [Behaviour, LinearWorkflow, DiamondWorkflow, VariationsWorkflow]);
    behaviour = t.get(Behaviour);
  });
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
  });

  const eventsOf = (taskId: string) => t.events.filter((e) => e.taskId === taskId);

  /**
   * The exact events of a task that ran without failures, each once per transition, in a valid order,
   * with the full payload.
   */
  function expectCleanRunEvents(done: TaskDetail, taskName: string): void {
    const events = eventsOf(done.id);
    const stepNames = done.steps.map((s) => s.name);
    const label = (e: TaskerEventPayload) => `${e.event}${stepOf(e) ? `:${stepOf(e)}` : ''}`;
    expect(events.map(label).sort()).toEqual(
      [
        TaskerEvents.TASK_CREATED,
        TaskerEvents.TASK_STARTED,
        ...stepNames.map((s) => `${TaskerEvents.STEP_STARTED}:${s}`),
        ...stepNames.map((s) => `${TaskerEvents.STEP_COMPLETED}:${s}`),
        TaskerEvents.TASK_COMPLETED,
      ].sort(),
    );

    const at = (event: string, step?: string) => events.findIndex((e) => e.event === event && stepOf(e) === step);
    expect(at(TaskerEvents.TASK_CREATED)).toBe(0);
    expect(at(TaskerEvents.TASK_STARTED)).toBe(1);
    expect(at(TaskerEvents.TASK_COMPLETED)).toBe(events.length - 1);
    for (const s of done.steps) {
      const started = at(TaskerEvents.STEP_STARTED, s.name);
      const completed = at(TaskerEvents.STEP_COMPLETED, s.name);
      expect(started).toBeLessThan(completed);
      for (const parent of s.dependsOn) expect(at(TaskerEvents.STEP_COMPLETED, parent)).toBeLessThan(started);
      expect(events[completed].occurredAt.getTime()).toBeGreaterThanOrEqual(events[started].occurredAt.getTime());
    }

    for (const e of events) {
      expect(e).toMatchObject({ taskId: done.id, taskName, namespace: 'scenarios', version: '1.0.0' });
      expect(e.occurredAt).toBeInstanceOf(Date);
      if (e.event === TaskerEvents.STEP_STARTED || e.event === TaskerEvents.STEP_COMPLETED) {
        const s = done.steps.find((x) => x.name === e.stepName)!;
        expect(e).toMatchObject({ stepId: s.id, stepName: s.name, attempt: 1 });
      } else {
        expect('stepName' in e).toBe(false);
      }
      if (e.event === TaskerEvents.STEP_COMPLETED) {
        expect(typeof e.durationMs).toBe('number');
        expect(e.durationMs).toBeGreaterThanOrEqual(0);
      }
    }
    expect(events[0].occurredAt.getTime()).toBe(done.createdAt.getTime());
  }

  it('linear: created, started, 4 × step.started/completed, completed — each once, in order', async () => {
    const task = await t.tasker.createTask({ name: 'linear', namespace: 'scenarios', context: { x: 6 } });
    const done = await t.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expectCleanRunEvents(done, 'linear');
  });

  it('diamond: parallel branches start only after start completed; end only after both', async () => {
    const task = await t.tasker.createTask({ name: 'diamond', namespace: 'scenarios', context: { x: 6 } });
    const done = await t.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expectCleanRunEvents(done, 'diamond');
  });

  it('events come in a valid order for many tasks created at once', async () => {
    const tasks = await t.tasker.createTasks(
      Array.from({ length: 20 }, (_, i) => ({ name: i % 2 ? 'linear' : 'diamond', namespace: 'scenarios', context: { x: i } })),
    );
    const done = await Promise.all(tasks.map((k) => t.tasker.waitForTask(k.id, { timeoutMs: 30_000 })));
    for (const [i, d] of done.entries()) {
      expect(d.state).toBe('complete');
      expectCleanRunEvents(d, i % 2 ? 'linear' : 'diamond');
    }
  });

  it('step.failed carries attempt, willRetry, nextRetryAt and error', async () => {
    behaviour.plan('evt-fail', 'work', failFirst(1, () => new Error('flaky downstream')));
    behaviour.plan('evt-perm', 'work', () => {
      throw new PermanentError('bad input', { code: 'BAD_INPUT' });
    });
    const a = await t.tasker.createTask({ name: 'variations', namespace: 'variations', context: { x: 6, key: 'evt-fail' } });
    const b = await t.tasker.createTask({ name: 'variations', namespace: 'variations', context: { x: 6, key: 'evt-perm' } });
    const [doneA, doneB] = await Promise.all([a, b].map((k) => t.tasker.waitForTask(k.id, { timeoutMs: 20_000 })));
    expect([doneA.state, doneB.state]).toEqual(['complete', 'error']);
    const workA = doneA.steps.find((s) => s.name === 'work')!;

    const failedA = eventsOf(a.id).filter((e): e is StepFailedPayload => e.event === TaskerEvents.STEP_FAILED);
    expect(failedA).toHaveLength(1);
    expect(failedA[0]).toMatchObject({
      taskId: a.id,
      taskName: 'variations',
      namespace: 'variations',
      version: '1.0.0',
      stepId: workA.id,
      stepName: 'work',
      attempt: 1,
      willRetry: true,
      error: { name: 'Error', message: 'flaky downstream' },
    });
    expect(failedA[0].nextRetryAt).toBeInstanceOf(Date);
    // Computed by the worker when the attempt failed (now + backoff), so after the attempt started;
    // how close to the recorded failure it is depends on the machine's load, not asserted.
    const startedA = eventsOf(a.id).find((e) => e.event === TaskerEvents.STEP_STARTED && stepOf(e) === 'work')!;
    expect(failedA[0].nextRetryAt!.getTime()).toBeGreaterThanOrEqual(startedA.occurredAt.getTime());
    expect(typeof failedA[0].durationMs).toBe('number');
    // The failed attempt and the retry each start once.
    const workEvents = eventsOf(a.id)
      .filter((e) => stepOf(e) === 'work')
      .map((e) => `${e.event}#${(e as StepEventPayload).attempt}`);
    expect(workEvents).toEqual(['tasker.step.started#1', 'tasker.step.failed#1', 'tasker.step.started#2', 'tasker.step.completed#2']);

    const failedB = eventsOf(b.id).filter((e): e is StepFailedPayload => e.event === TaskerEvents.STEP_FAILED);
    expect(failedB).toHaveLength(1);
    expect(failedB[0]).toMatchObject({ stepName: 'work', attempt: 1, willRetry: false, error: { name: 'PermanentError', message: 'bad input', code: 'BAD_INPUT' } });
    expect(failedB[0].nextRetryAt).toBeUndefined();
    const taskFailed = eventsOf(b.id).filter((e) => e.event === TaskerEvents.TASK_FAILED);
    expect(taskFailed).toHaveLength(1);
    expect(eventsOf(b.id).indexOf(taskFailed[0])).toBe(eventsOf(b.id).length - 1);
    await expectConsistentAuditTrail(t.tasker, doneA);
    await expectConsistentAuditTrail(t.tasker, doneB);
  });
});

/** Subscribers that fail in every way a Nest user can write one. */
@Injectable()
class FaultySubscribers implements OnModuleInit {
  calls = { syncThrow: 0, asyncReject: 0, rethrown: 0, raw: 0 };
  constructor(private readonly emitter: EventEmitter2) {}

  onModuleInit(): void {
    // A plain EventEmitter2 listener that throws synchronously, straight out of emit().
    this.emitter.on(TaskerEvents.TASK_STARTED, () => {
      this.calls.raw++;
      throw new Error('raw listener failure');
    });
  }

  @OnEvent(TaskerEvents.STEP_COMPLETED)
  onStepCompleted(): void {
    this.calls.syncThrow++;
    throw new Error('sync subscriber failure');
  }

  @OnEvent(TaskerEvents.STEP_STARTED, { suppressErrors: false })
  async onStepStarted(): Promise<void> {
    this.calls.asyncReject++;
    throw new Error('async subscriber failure');
  }

  @OnEvent(TaskerEvents.TASK_CREATED, { suppressErrors: false })
  onTaskCreated(): void {
    this.calls.rethrown++;
    throw new Error('rethrown subscriber failure');
  }
}

describe('lifecycle events: failing subscribers', () => {
  const schema = uniqueSchema('evtsub');
  let t: TestApp;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    t = await startApp(schema, [FaultySubscribers, DiamondWorkflow]);
  });
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
    process.off('unhandledRejection', onUnhandled);
  });

  it('a subscriber that throws or rejects does not break orchestration', async () => {
    const task = await t.tasker.createTask({ name: 'diamond', namespace: 'scenarios', context: { x: 6 } });
    const done = await t.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(Object.fromEntries(done.steps.map((s) => [s.name, [s.state, s.attempts, s.results]]))).toEqual({
      start: ['complete', 1, 36],
      branch_b: ['complete', 1, 61],
      branch_c: ['complete', 1, 72],
      end: ['complete', 1, 66.5],
    });
    const subs = t.get(FaultySubscribers);
    expect(subs.calls).toEqual({ syncThrow: 4, asyncReject: 4, rethrown: 1, raw: 1 });
    // Every event still reached the other subscribers, once.
    expect(t.events.filter((e) => e.taskId === task.id).map((e) => e.event)).toHaveLength(11);
    await expectConsistentAuditTrail(t.tasker, done);
    // Give pending rejections a turn of the event loop to surface, then none may be unhandled.
    await new Promise((r) => setImmediate(r));
    expect(unhandled.map((u) => (u as Error)?.message ?? String(u))).toEqual([]);
  });
});
