import { Injectable } from '@nestjs/common';
import { DependsOn, PermanentError, RetryableError, Step, StepContext, TaskerEvents, TaskHandler } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { LinearWorkflow } from '../fixtures/linear.workflow';

@Injectable()
class Quotes {
  price(): number {
    return 10;
  }
}

/** A step with a ten-minute backoff and a ten-minute Retry-After: only skipped delays let it finish in a test. */
@TaskHandler({ name: 'slow_retries', namespace: 'kit' })
class SlowRetries {
  private calls = 0;
  constructor(private readonly quotes: Quotes) {}

  @Step({ backoff: { baseMs: 600_000, maxMs: 600_000, jitter: 0 }, retryLimit: 4 })
  quote() {
    return this.quotes.price();
  }

  @Step({ retryLimit: 2 })
  @DependsOn('quote')
  limited(ctx: StepContext) {
    if (++this.calls === 1) throw new RetryableError('rate limited', { retryAfterMs: 600_000 });
    return (ctx.results.quote as number) * 2;
  }
}

@TaskHandler({ name: 'versioned', namespace: 'kit', version: '9.0.0' })
class VersionNine {
  @Step()
  only() {
    return 9;
  }
}

@TaskHandler({ name: 'versioned', namespace: 'kit', version: '10.0.0' })
class VersionTen {
  @Step()
  only() {
    return 10;
  }
}

describe('nestjs-tasker/testing', () => {
  let kit: TaskerTestingApp;
  beforeAll(async () => {
    kit = await createTaskerTestingApp({ providers: [LinearWorkflow, Quotes, SlowRetries] });
  });
  afterAll(() => kit?.close());
  afterEach(() => kit.restoreSteps());

  it('runs a task to its end and reads results, completion order and events', async () => {
    const done = await kit.run({ name: 'linear', namespace: 'scenarios', context: { x: 6 } });
    expect(done.state).toBe('complete');
    expect(TaskerTestingApp.results(done)).toEqual({ step_1: 36, step_2: 46, step_3: 138, step_4: 69 });
    expect(await kit.completionOrder(done.id)).toEqual(['step_1', 'step_2', 'step_3', 'step_4']);
    expect(kit.eventsFor(done.id, TaskerEvents.STEP_COMPLETED).map((e) => 'stepName' in e && e.stepName)).toEqual([
      'step_1',
      'step_2',
      'step_3',
      'step_4',
    ]);
    expect(kit.eventsFor(done.id).at(-1)?.event).toBe(TaskerEvents.TASK_COMPLETED);
  });

  it('fails a step N times without touching its code; long backoffs are not waited for', async () => {
    const injected = kit.failStep({ name: 'slow_retries', namespace: 'kit' }, 'quote', { times: 2 });
    const done = await kit.run({ name: 'slow_retries', namespace: 'kit' });
    expect(done.state).toBe('complete');
    expect(injected.failures()).toBe(2);
    expect(done.steps.map((s) => [s.name, s.attempts, s.results])).toEqual([
      ['quote', 3, 10],
      ['limited', 2, 20],
    ]);
    const failed = kit.eventsFor(done.id, TaskerEvents.STEP_FAILED);
    expect(failed.map((e) => 'willRetry' in e && e.willRetry)).toEqual([true, true, true]);
  });

  it('fails a step permanently: one attempt, the task ends in error, dependents never run', async () => {
    kit.failStep({ name: 'linear', namespace: 'scenarios' }, 'step_2', { permanent: true });
    const done = await kit.run({ name: 'linear', namespace: 'scenarios', context: { x: 6 } });
    expect(done.state).toBe('error');
    expect(done.steps.map((s) => [s.name, s.state, s.attempts])).toEqual([
      ['step_1', 'complete', 1],
      ['step_2', 'error', 1],
      ['step_3', 'pending', 0],
      ['step_4', 'pending', 0],
    ]);
    expect(done.steps[1].lastError).toMatchObject({ name: 'PermanentError', code: 'INJECTED', message: 'Injected failure 1 of step "step_2"' });
  });

  it('throws the error you give, and restoreSteps puts the real step back', async () => {
    kit.failStep({ name: 'linear', namespace: 'scenarios' }, 'step_4', { times: 5, error: () => new TypeError('bad input') });
    const failed = await kit.run({ name: 'linear', namespace: 'scenarios', context: { x: 6 } });
    expect(failed.steps[3].lastError).toMatchObject({ name: 'TypeError', message: 'bad input' });
    expect(failed.steps[3].attempts).toBe(3);
    kit.restoreSteps();
    expect((await kit.run({ name: 'linear', namespace: 'scenarios', context: { x: 6 } })).steps[3].results).toBe(69);
  });

  it('names an unknown step or task type clearly', () => {
    expect(() => kit.failStep({ name: 'linear', namespace: 'scenarios' }, 'nope')).toThrow(
      'scenarios/linear@1.0.0 has no step "nope" (steps: step_1, step_2, step_3, step_4).',
    );
    expect(() => kit.failStep({ name: 'linear' }, 'step_1')).toThrow('No handler is registered for task "default/linear". Did you mean "scenarios/linear"? ');
  });

  it('failStep without a version targets the highest one, compared numerically (10.0.0 > 9.0.0)', async () => {
    const other = await createTaskerTestingApp({ providers: [VersionNine, VersionTen] });
    try {
      other.failStep({ name: 'versioned', namespace: 'kit' }, 'only', { permanent: true });
      const latest = await other.run({ name: 'versioned', namespace: 'kit' });
      expect([latest.version, latest.state]).toEqual(['10.0.0', 'error']);
      const nine = await other.run({ name: 'versioned', namespace: 'kit', version: '9.0.0' });
      expect([nine.state, TaskerTestingApp.results(nine).only]).toEqual(['complete', 9]);
    } finally {
      await other.close();
    }
  });

  it('overrides providers through configure', async () => {
    const other = await createTaskerTestingApp({
      providers: [Quotes, SlowRetries],
      configure: (b) => b.overrideProvider(Quotes).useValue({ price: () => 7 }),
    });
    try {
      const done = await other.run({ name: 'slow_retries', namespace: 'kit' });
      expect(TaskerTestingApp.results(done)).toEqual({ quote: 7, limited: 14 });
    } finally {
      await other.close();
    }
  });

  it('starts an embedded Postgres when there is no DATABASE_URL, and removes it at close', async () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    let own: TaskerTestingApp | undefined;
    try {
      own = await createTaskerTestingApp({ providers: [LinearWorkflow] });
    } finally {
      process.env.DATABASE_URL = saved;
    }
    try {
      const done = await own.run({ name: 'linear', namespace: 'scenarios', context: { x: 2 } });
      expect(TaskerTestingApp.results(done).step_4).toBe(21);
    } finally {
      await own.close();
    }
  });
});

/** Waits for a signal, then hands a map over its payload to a step that may be told to fail. */
@TaskHandler({ name: 'dynamic', namespace: 'kit' })
class DynamicKitWorkflow {
  @Step()
  ask(ctx: StepContext) {
    return ctx.waitForSignal('answer');
  }

  @Step({ map: (ctx) => (ctx.results['ask'] as { items: number[] }).items })
  @DependsOn('ask')
  each(ctx: StepContext<Record<string, unknown>, number>) {
    if (ctx.item! < 0) throw new PermanentError(`negative item ${ctx.item}`, { code: 'NEGATIVE' });
    return ctx.item! * 2;
  }

  @Step()
  @DependsOn('each')
  spawn(ctx: StepContext) {
    return ctx.startChild({ name: 'kid', namespace: 'kit', context: { total: (ctx.results['each'] as number[]).reduce((a, b) => a + b, 0) } });
  }
}

@TaskHandler({ name: 'kid', namespace: 'kit' })
class KidWorkflow {
  @Step()
  echo(ctx: StepContext<{ total: number }>) {
    return ctx.task.context.total;
  }
}

describe('nestjs-tasker/testing: dynamic steps (signal, waitForStep, childTasks)', () => {
  const DYNAMIC = { name: 'dynamic', namespace: 'kit' };
  let kit: TaskerTestingApp;
  beforeAll(async () => {
    kit = await createTaskerTestingApp({ providers: [DynamicKitWorkflow, KidWorkflow] });
  });
  afterAll(() => kit?.close());

  it('waitForStep returns the step once it is in the state; signal delivers the payload with its sender; childTasks lists the children', async () => {
    const task = await kit.tasker.createTask({ ...DYNAMIC, context: {} });
    const waiting = await kit.waitForStep(task.id, 'ask', 'waiting');
    expect(waiting).toMatchObject({ name: 'ask', state: 'waiting', waitingFor: { kind: 'signal', name: 'answer' }, readiness: { reason: 'waiting for signal "answer"' } });
    expect(await kit.childTasks(task.id)).toEqual([]);

    const view = await kit.signal(task.id, 'answer', { items: [1, 2, 3] }, { actor: 'tester', reason: 'go' });
    expect(view.id).toBe(task.id);
    // A map instance exists only once its map step expanded: waitForStep waits for it to appear.
    const instance = await kit.waitForStep(task.id, 'each[2]', ['complete', 'resolved_manually']);
    expect(instance).toMatchObject({ mapOf: 'each', mapIndex: 2, results: 6 });
    const done = await kit.tasker.waitForTask(task.id);
    expect(done.state).toBe('complete');
    expect(TaskerTestingApp.results(done).ask).toEqual({ items: [1, 2, 3] });
    const completion = (await kit.tasker.getAuditTrail(task.id)).find((e) => e.stepName === 'ask' && e.to === 'complete');
    expect(completion).toMatchObject({ actor: 'tester', reason: 'signal "answer": go' });

    const children = await kit.childTasks(task.id);
    expect(children.map((c) => [c.namespace, c.name, c.state, c.parentTaskId, c.parentStepName])).toEqual([['kit', 'kid', 'complete', task.id, 'spawn']]);
    expect(TaskerTestingApp.results(done).spawn).toEqual({ taskId: children[0].id, results: { echo: 12 } });
  });

  it('waitForStep rejects, saying where the step is, when the task settles without the step getting there', async () => {
    const task = await kit.tasker.createTask({ ...DYNAMIC, context: {} });
    await kit.waitForStep(task.id, 'ask', 'waiting');
    await kit.signal(task.id, 'answer', { items: [1, -1] });
    await expect(kit.waitForStep(task.id, 'spawn', 'waiting')).rejects.toThrow(
      `waitForStep: task ${task.id} is error and its step "spawn" never became waiting; it is pending (waiting_for_dependencies)`,
    );
    await expect(kit.waitForStep(task.id, 'each[1]', 'complete')).rejects.toThrow(
      `waitForStep: task ${task.id} is error and its step "each[1]" never became complete; it is error (attempts_exhausted; last error NEGATIVE: negative item -1)`,
    );
    expect((await kit.waitForStep(task.id, 'each[1]', 'error')).lastError).toMatchObject({ code: 'NEGATIVE' });
  });

  it('waitForStep rejects after its timeout', async () => {
    const task = await kit.tasker.createTask({ ...DYNAMIC, context: {} });
    await expect(kit.waitForStep(task.id, 'each', 'complete', { timeoutMs: 200 })).rejects.toThrow(
      /^waitForStep: step "each" of task \d+ was not complete within 200 ms; it is pending \(waiting_for_dependencies\)$/,
    );
    await expect(kit.waitForStep(task.id, 'each[0]', 'complete', { timeoutMs: 100 })).rejects.toThrow(/it does not exist \(yet\)$/);
    await kit.tasker.cancelTask(task.id);
  });

  it('signal refuses what TaskerService.signal refuses', async () => {
    await expect(kit.signal('424242', 'answer')).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
    await expect(kit.signal('1', 'not a name!')).rejects.toMatchObject({ code: 'TASK_VALIDATION' });
  });
});
