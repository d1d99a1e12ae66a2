import { Injectable } from '@nestjs/common';
import { context, propagation, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ClaimRow, TransitionRow } from '../persistence/rows';

const TRACER = 'nestjs-tasker';

/**
 * OpenTelemetry spans through @opentelemetry/api: a no-op until the app registers an SDK.
 * `tasker.create` wraps task creation and its context is stored with the task, so every
 * `tasker.step` attempt (in any process) joins the creator's trace; a `tasker.task` span covering
 * creation to settlement is recorded by the process that settles the task.
 */
@Injectable()
export class TaskerTracing {
  private get tracer() {
    return trace.getTracer(TRACER);
  }

  /** Runs the creation in a span and hands it the trace context to store with the tasks. */
  async create<T>(names: string[], fn: (traceContext: Record<string, string> | undefined) => Promise<T>): Promise<T> {
    return this.tracer.startActiveSpan(
      'tasker.create',
      { kind: SpanKind.PRODUCER, attributes: { 'tasker.task.name': names.join(','), 'tasker.task.count': names.length } },
      async (span) => {
        try {
          const carrier: Record<string, string> = {};
          propagation.inject(context.active(), carrier);
          return await fn(Object.keys(carrier).length > 0 ? carrier : undefined);
        } catch (e) {
          fail(span, e);
          throw e;
        } finally {
          span.end();
        }
      },
    );
  }

  /** Runs one attempt in a `tasker.step` span, child of the task's creation; the step's own spans nest in it. */
  async step<T>(claim: ClaimRow, fn: () => Promise<T>, outcomeOf: (result: T) => string): Promise<T> {
    const parent = claim.trace_context ? propagation.extract(ROOT_CONTEXT, claim.trace_context) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(`tasker.step ${claim.step_name}`, { kind: SpanKind.CONSUMER }, parent);
    // Without an SDK (or a trace to join) the span records nothing and carries no context: the
    // attempt runs bare, which spares every step the attributes and the context switch.
    if (!span.isRecording() && !trace.isSpanContextValid(span.spanContext())) return fn();
    span.setAttributes({
      'tasker.task.id': String(claim.task_id),
      'tasker.task.name': claim.task_name,
      'tasker.task.namespace': claim.namespace,
      'tasker.task.version': claim.version,
      'tasker.step.id': String(claim.step_id),
      'tasker.step.name': claim.step_name,
      'tasker.step.attempt': claim.attempt,
    });
    try {
      const result = await context.with(trace.setSpan(parent, span), fn);
      const outcome = outcomeOf(result);
      span.setAttribute('tasker.step.outcome', outcome);
      span.setStatus({ code: outcome === 'completed' ? SpanStatusCode.OK : SpanStatusCode.ERROR });
      return result;
    } catch (e) {
      fail(span, e);
      throw e;
    } finally {
      span.end();
    }
  }

  /** A `tasker.task` span from creation to the task's settlement, for each task that just settled. */
  settled(rows: readonly TransitionRow[]): void {
    for (const r of rows) {
      if (r.kind !== 'task' || !['complete', 'error', 'cancelled'].includes(r.to_state)) continue;
      const parent = r.trace_context ? propagation.extract(ROOT_CONTEXT, r.trace_context) : ROOT_CONTEXT;
      const span = this.tracer.startSpan(
        `tasker.task ${r.task_name}`,
        {
          kind: SpanKind.INTERNAL,
          startTime: r.task_created_at,
          attributes: {
            'tasker.task.id': String(r.task_id),
            'tasker.task.name': r.task_name,
            'tasker.task.namespace': r.namespace,
            'tasker.task.version': r.version,
            'tasker.task.outcome': r.to_state,
          },
        },
        parent,
      );
      span.setStatus({ code: r.to_state === 'complete' ? SpanStatusCode.OK : SpanStatusCode.ERROR });
      span.end(r.at);
    }
  }
}

function fail(span: Span, e: unknown): void {
  if (e instanceof Error) span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
}
