/** Lifecycle event names, emitted through @nestjs/event-emitter after the change commits. */
export const TaskerEvents = {
  TASK_CREATED: 'tasker.task.created',
  TASK_STARTED: 'tasker.task.started',
  TASK_COMPLETED: 'tasker.task.completed',
  TASK_FAILED: 'tasker.task.failed',
  TASK_CANCELLED: 'tasker.task.cancelled',
  TASK_RETRY_REQUESTED: 'tasker.task.retry_requested',
  STEP_STARTED: 'tasker.step.started',
  STEP_COMPLETED: 'tasker.step.completed',
  STEP_FAILED: 'tasker.step.failed',
  STEP_RESOLVED_MANUALLY: 'tasker.step.resolved_manually',
  STEP_CANCELLED: 'tasker.step.cancelled',
  /** The step will not run: its condition was false (`reason: 'condition false'`), or every parent was skipped. */
  STEP_SKIPPED: 'tasker.step.skipped',
  /** The step's body ran and it now waits (`reason` says for what: a signal, a child task, a time, its map instances). */
  STEP_WAITING: 'tasker.step.waiting',
  /** `TaskerService.signal` reached a task (`signalName`); a waiting step completes with it, now or when it waits. */
  SIGNAL_RECEIVED: 'tasker.signal.received',
} as const;

export type TaskerEventName = (typeof TaskerEvents)[keyof typeof TaskerEvents];

/** Fields every event carries. */
export interface TaskerEventBase {
  event: TaskerEventName;
  taskId: string;
  taskName: string;
  namespace: string;
  version: string;
  occurredAt: Date;
  actor?: string;
  reason?: string;
}

export interface TaskEventPayload extends TaskerEventBase {
  event:
    | typeof TaskerEvents.TASK_CREATED
    | typeof TaskerEvents.TASK_STARTED
    | typeof TaskerEvents.TASK_COMPLETED
    | typeof TaskerEvents.TASK_FAILED
    | typeof TaskerEvents.TASK_CANCELLED
    | typeof TaskerEvents.TASK_RETRY_REQUESTED;
}

export interface StepEventPayload extends TaskerEventBase {
  event:
    | typeof TaskerEvents.STEP_STARTED
    | typeof TaskerEvents.STEP_COMPLETED
    | typeof TaskerEvents.STEP_RESOLVED_MANUALLY
    | typeof TaskerEvents.STEP_CANCELLED
    | typeof TaskerEvents.STEP_SKIPPED
    | typeof TaskerEvents.STEP_WAITING;
  stepId: string;
  stepName: string;
  attempt?: number;
  durationMs?: number;
}

export interface StepFailedPayload extends TaskerEventBase {
  event: typeof TaskerEvents.STEP_FAILED;
  stepId: string;
  stepName: string;
  attempt: number;
  durationMs?: number;
  error: { name: string; message: string; code?: string };
  willRetry: boolean;
  nextRetryAt?: Date;
}

export interface SignalReceivedPayload extends TaskerEventBase {
  event: typeof TaskerEvents.SIGNAL_RECEIVED;
  signalName: string;
}

export type TaskerEventPayload = TaskEventPayload | StepEventPayload | StepFailedPayload | SignalReceivedPayload;
