import type { AuditEntry, TaskerEventPayload } from 'nestjs-tasker';
import { eventForTransition } from '../../libs/tasker/src/events/transition-events';
import type { TransitionRow } from '../../libs/tasker/src/persistence/rows';

/** One event, by what tells it apart: its name, task, step, attempt and time (ms). */
export const eventKey = (e: { event: string; taskId: string; stepName?: string | null; attempt?: number | null; at: Date }) =>
  `${e.event} task ${e.taskId}${e.stepName ? ` step ${e.stepName}` : ''}${e.attempt != null ? ` attempt ${e.attempt}` : ''} at ${e.at.toISOString()}`;

/** The event a recorded transition stands for (the engine's own mapping), or null. */
export function eventOfTransition(t: {
  taskId: string;
  stepName?: string | null;
  from: string | null;
  to: string;
  attempt?: number | null;
  at: Date;
}): string | null {
  const row = {
    kind: t.stepName ? 'step' : 'task',
    transition_id: '0',
    task_id: t.taskId,
    task_name: '',
    namespace: '',
    version: '',
    step_id: t.stepName ? '0' : null,
    step_name: t.stepName ?? null,
    from_state: t.from,
    to_state: t.to,
    attempt: t.attempt ?? null,
    actor: null,
    reason: null,
    error: null,
    next_retry_at: null,
    duration_ms: null,
    at: t.at,
    task_created_at: t.at,
    trace_context: null,
  } as unknown as TransitionRow;
  const event = eventForTransition(row)?.event;
  return event ? eventKey({ event, taskId: t.taskId, stepName: t.stepName, attempt: t.attempt, at: t.at }) : null;
}

/**
 * Compares the events a trail's transitions stand for with those published (`events`, of every
 * process), as multisets: what was never published, and what was published more than once.
 * `task.created` is left out (announced from the created row, not from its transition).
 */
export function compareEvents(transitions: Parameters<typeof eventOfTransition>[0][], events: TaskerEventPayload[]): { missing: string[]; extra: string[] } {
  const count = new Map<string, number>();
  for (const t of transitions) {
    const k = eventOfTransition(t);
    if (k && !k.startsWith('tasker.task.created ')) count.set(k, (count.get(k) ?? 0) + 1);
  }
  for (const e of events) {
    if (e.event === 'tasker.task.created' || e.event === 'tasker.signal.received') continue;
    const k = eventKey({ event: e.event, taskId: e.taskId, stepName: (e as { stepName?: string }).stepName, attempt: (e as { attempt?: number }).attempt, at: new Date(e.occurredAt) });
    count.set(k, (count.get(k) ?? 0) - 1);
  }
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [k, n] of count) {
    for (let i = 0; i < n; i++) missing.push(k);
    for (let i = 0; i < -n; i++) extra.push(k);
  }
  return { missing, extra };
}

/** compareEvents over audit trails. */
export const compareTrailEvents = (trail: AuditEntry[], events: TaskerEventPayload[]) => compareEvents(trail, events);
