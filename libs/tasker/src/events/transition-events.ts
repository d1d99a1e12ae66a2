/** Which lifecycle event a recorded transition is, if any. Pure. */
import type { TransitionRow } from '../persistence/rows';
import { TaskerEventName, TaskerEventPayload, TaskerEvents } from './tasker-events';

function taskEventName(from: string | null, to: string): TaskerEventName | null {
  if (from === null && to === 'pending') return TaskerEvents.TASK_CREATED;
  if (from === 'pending' && to === 'in_progress') return TaskerEvents.TASK_STARTED;
  if (from === 'error' && to === 'pending') return TaskerEvents.TASK_RETRY_REQUESTED;
  if (to === 'complete') return TaskerEvents.TASK_COMPLETED;
  if (to === 'error') return TaskerEvents.TASK_FAILED;
  if (to === 'cancelled') return TaskerEvents.TASK_CANCELLED;
  return null; // e.g. error → in_progress after an operator resolved the failed step
}

function stepEventName(from: string | null, to: string): TaskerEventName | null {
  if (to === 'in_progress') return from === 'waiting' ? null : TaskerEvents.STEP_STARTED; // a wait taken back is no new attempt
  if (to === 'skipped') return TaskerEvents.STEP_SKIPPED;
  if (to === 'waiting') return TaskerEvents.STEP_WAITING;
  if (to === 'complete') return TaskerEvents.STEP_COMPLETED;
  if (to === 'error' && from === 'in_progress') return TaskerEvents.STEP_FAILED;
  if (to === 'resolved_manually') return TaskerEvents.STEP_RESOLVED_MANUALLY;
  if (to === 'cancelled') return TaskerEvents.STEP_CANCELLED;
  return null; // error → pending on retryTask, in_progress → pending on release
}

export function eventForTransition(t: TransitionRow): TaskerEventPayload | null {
  const base = {
    taskId: String(t.task_id),
    taskName: t.task_name,
    namespace: t.namespace,
    version: t.version,
    occurredAt: t.at,
    ...(t.actor !== null ? { actor: t.actor } : {}),
    ...(t.reason !== null ? { reason: t.reason } : {}),
  };
  if (t.kind === 'signal') return { event: TaskerEvents.SIGNAL_RECEIVED, ...base, signalName: t.step_name as string };
  if (t.kind === 'task') {
    const event = taskEventName(t.from_state, t.to_state);
    return event ? ({ event, ...base } as TaskerEventPayload) : null;
  }
  const event = stepEventName(t.from_state, t.to_state);
  if (!event) return null;
  const step = {
    ...base,
    stepId: String(t.step_id),
    stepName: t.step_name as string,
    ...(t.attempt !== null ? { attempt: t.attempt } : {}),
    ...(t.duration_ms !== null ? { durationMs: t.duration_ms } : {}),
  };
  if (event === TaskerEvents.STEP_FAILED) {
    const error = t.error ?? { name: 'Error', message: 'unknown error' };
    return {
      ...step,
      event,
      attempt: t.attempt ?? 0,
      error: { name: error.name, message: error.message, ...(error.code ? { code: error.code } : {}) },
      willRetry: t.next_retry_at !== null,
      ...(t.next_retry_at ? { nextRetryAt: t.next_retry_at } : {}),
    };
  }
  return { ...step, event } as TaskerEventPayload;
}
