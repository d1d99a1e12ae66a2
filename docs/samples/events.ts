import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TaskerAuditService, TaskerEvents } from 'nestjs-tasker';
import type { StepFailedPayload, TaskerEventPayload, TaskEventPayload } from 'nestjs-tasker';

// #region listener
@Injectable()
export class WorkflowAlerts {
  private readonly logger = new Logger(WorkflowAlerts.name);
  readonly pages: string[] = [];

  @OnEvent(TaskerEvents.STEP_FAILED)
  onStepFailed(e: StepFailedPayload) {
    const next = e.willRetry ? `retry at ${e.nextRetryAt?.toISOString()}` : 'no retry left';
    this.logger.warn(`${e.namespace}/${e.taskName} ${e.stepName} attempt ${e.attempt} failed (${e.error.message}); ${next}`);
  }

  @OnEvent(TaskerEvents.TASK_FAILED)
  onTaskFailed(e: TaskEventPayload) {
    this.pages.push(`Task ${e.taskId} (${e.namespace}/${e.taskName}@${e.version}) needs an operator`);
  }
}
// #endregion

// #region any
/** Every Tasker event, whatever its name, without turning on wildcards in EventEmitterModule. */
@Injectable()
export class TaskerEventLog implements OnModuleInit, OnModuleDestroy {
  readonly seen: string[] = [];
  private readonly listener = (name: string | string[], payload: TaskerEventPayload) => {
    if (typeof name === 'string' && name.startsWith('tasker.')) {
      this.seen.push(`${payload.event} ${'stepName' in payload ? payload.stepName : ''}`.trim());
    }
  };

  constructor(private readonly events: EventEmitter2) {}

  onModuleInit() {
    this.events.onAny(this.listener);
  }

  onModuleDestroy() {
    this.events.offAny(this.listener);
  }
}
// #endregion

// #region audit
@Injectable()
export class ComplianceExport {
  constructor(private readonly audit: TaskerAuditService) {}

  /** Who did what to a task, when: one line per transition of the task and its steps. */
  async history(taskId: string): Promise<string[]> {
    const trail = await this.audit.trail(taskId);
    return trail.map((e) => `${e.at.toISOString()} ${e.stepName ?? 'task'} ${e.from ?? '∅'} → ${e.to} by ${e.actor ?? 'system'}`);
  }

  /** The same trail as NDJSON, for archiving. */
  ndjson(taskId: string): Promise<string> {
    return this.audit.export(taskId);
  }
}
// #endregion

// #region tracing
/** Call before the Nest app is created (e.g. first thing in main.ts). */
export function startTracing() {
  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // Replace the console exporter with your backend's (OTLP...), or use NodeSDK from @opentelemetry/sdk-node.
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] }));
}
// #endregion
