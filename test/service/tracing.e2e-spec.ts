import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Step, StepContext, TaskHandler, DependsOn } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';

@TaskHandler({ name: 'traced', namespace: 'otel', version: '2.0.0' })
class TracedWorkflow {
  @Step()
  fetch() {
    // A span the step makes itself nests under the step's span.
    return trace.getTracer('app').startActiveSpan('app.fetch', (s) => {
      s.end();
      return 1;
    });
  }

  @Step({ retryLimit: 2 })
  @DependsOn('fetch')
  flaky(ctx: StepContext) {
    if (ctx.step.attempt === 1) throw new Error('first attempt fails');
    return 2;
  }
}

/** OpenTelemetry: the creator's trace continues into every step attempt, with ids and outcome. */
describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();
  let kit: TaskerTestingApp;

  beforeAll(async () => {
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    kit = await createTaskerTestingApp({ providers: [TracedWorkflow] });
  });
  afterAll(async () => {
    await kit?.close();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('creation, each attempt and the task share the caller trace, with Tasker attributes', async () => {
    const tracer = trace.getTracer('test');
    const { done, traceId } = await tracer.startActiveSpan('http POST /orders', async (root) => {
      const d = await kit.run({ name: 'traced', namespace: 'otel' });
      root.end();
      return { done: d, traceId: root.spanContext().traceId };
    });
    expect(done.state).toBe('complete');
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const byName = (n: string) => spans.filter((s) => s.name === n);
    const id = (s: ReadableSpan) => s.spanContext().spanId;
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

    const [root] = byName('http POST /orders');
    const [create] = byName('tasker.create');
    expect(parentOf(create)).toBe(id(root));
    expect(create.attributes).toMatchObject({ 'tasker.task.name': 'traced', 'tasker.task.count': 1 });

    const [fetch] = byName('tasker.step fetch');
    expect(parentOf(fetch)).toBe(id(create));
    expect(fetch.attributes).toMatchObject({
      'tasker.task.id': done.id,
      'tasker.task.name': 'traced',
      'tasker.task.namespace': 'otel',
      'tasker.task.version': '2.0.0',
      'tasker.step.name': 'fetch',
      'tasker.step.attempt': 1,
      'tasker.step.outcome': 'completed',
    });
    expect(parentOf(byName('app.fetch')[0])).toBe(id(fetch));

    const flaky = byName('tasker.step flaky').sort((a, b) => Number(a.attributes['tasker.step.attempt']) - Number(b.attributes['tasker.step.attempt']));
    expect(flaky.map((s) => [s.attributes['tasker.step.attempt'], s.attributes['tasker.step.outcome'], s.status.code])).toEqual([
      [1, 'retry', 2],
      [2, 'completed', 1],
    ]);
    expect(flaky.every((s) => parentOf(s) === id(create))).toBe(true);

    const [task] = byName('tasker.task traced');
    expect(task.attributes).toMatchObject({ 'tasker.task.id': done.id, 'tasker.task.outcome': 'complete' });
    expect(parentOf(task)).toBe(id(create));
  });

  it('is a no-op without an SDK: tasks run the same', async () => {
    trace.disable();
    try {
      const done = await kit.run({ name: 'traced', namespace: 'otel' });
      expect(done.state).toBe('complete');
    } finally {
      trace.setGlobalTracerProvider(provider);
    }
  });
});
