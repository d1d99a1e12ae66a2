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

// Built property by property, without spreads: a worker publishes several of these per step, and
// the intermediate objects of spreads were a measurable part of its CPU and garbage. Key order is
// kept as it was (a log line prints the payload).
export function eventForTransition(t: TransitionRow): TaskerEventPayload | null {
  if (t.kind === 'signal') {
    const p: Record<string, unknown> = { event: TaskerEvents.SIGNAL_RECEIVED };
    base(p, t);
    p.signalName = t.step_name as string;
    return p as unknown as TaskerEventPayload;
  }
  if (t.kind === 'task') {
    const event = taskEventName(t.from_state, t.to_state);
    if (!event) return null;
    const p: Record<string, unknown> = { event };
    base(p, t);
    return p as unknown as TaskerEventPayload;
  }
  const event = stepEventName(t.from_state, t.to_state);
  if (!event) return null;
  const p: Record<string, unknown> = {};
  base(p, t);
  p.stepId = String(t.step_id);
  p.stepName = t.step_name as string;
  if (t.attempt !== null) p.attempt = t.attempt;
  if (t.duration_ms !== null) p.durationMs = t.duration_ms;
  p.event = event;
  if (event === TaskerEvents.STEP_FAILED) {
    const error = t.error ?? { name: 'Error', message: 'unknown error' };
    p.attempt = t.attempt ?? 0;
    p.error = error.code ? { name: error.name, message: error.message, code: error.code } : { name: error.name, message: error.message };
    p.willRetry = t.next_retry_at !== null;
    if (t.next_retry_at) p.nextRetryAt = t.next_retry_at;
  }
  return p as unknown as TaskerEventPayload;
}

/** The fields every event has, in their order. */
function base(p: Record<string, unknown>, t: TransitionRow): void {
  p.taskId = String(t.task_id);
  p.taskName = t.task_name;
  p.namespace = t.namespace;
  p.version = t.version;
  p.occurredAt = t.at;
  if (t.actor !== null) p.actor = t.actor;
  if (t.reason !== null) p.reason = t.reason;
}
