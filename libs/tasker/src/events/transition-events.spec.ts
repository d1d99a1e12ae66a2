import type { TransitionRow } from '../persistence/rows';
import { TaskerEvents } from './tasker-events';
import { eventForTransition } from './transition-events';

const at = new Date('2030-01-01T00:00:00Z');

function taskRow(from: TransitionRow['from_state'], to: TransitionRow['to_state'], over: Partial<TransitionRow> = {}): TransitionRow {
  return {
    kind: 'task',
    transition_id: '100',
    task_id: '7',
    task_name: 'order',
    namespace: 'shop',
    version: '1.0.0',
    step_id: null,
    step_name: null,
    from_state: from,
    to_state: to,
    attempt: null,
    actor: null,
    reason: null,
    error: null,
    next_retry_at: null,
    duration_ms: null,
    at,
    task_created_at: at,
    trace_context: null,
    ...over,
  };
}

function stepRow(from: TransitionRow['from_state'], to: TransitionRow['to_state'], over: Partial<TransitionRow> = {}): TransitionRow {
  return taskRow(from, to, { kind: 'step', step_id: '70', step_name: 'charge', attempt: 1, ...over });
}

const base = { taskId: '7', taskName: 'order', namespace: 'shop', version: '1.0.0', occurredAt: at };

describe('eventForTransition: task rows', () => {
  it.each([
    [null, 'pending', TaskerEvents.TASK_CREATED],
    ['pending', 'in_progress', TaskerEvents.TASK_STARTED],
    ['in_progress', 'complete', TaskerEvents.TASK_COMPLETED],
    ['pending', 'complete', TaskerEvents.TASK_COMPLETED],
    ['in_progress', 'error', TaskerEvents.TASK_FAILED],
    ['pending', 'cancelled', TaskerEvents.TASK_CANCELLED],
    ['in_progress', 'cancelled', TaskerEvents.TASK_CANCELLED],
    ['error', 'cancelled', TaskerEvents.TASK_CANCELLED],
    ['error', 'pending', TaskerEvents.TASK_RETRY_REQUESTED],
  ] as const)('%s → %s is %s', (from, to, event) => {
    expect(eventForTransition(taskRow(from, to))).toEqual({ event, ...base });
  });

  it('has no event when a resolved step lets a failed task go on (error → in_progress)', () => {
    expect(eventForTransition(taskRow('error', 'in_progress'))).toBeNull();
  });

  it('carries actor and reason when recorded, never as null', () => {
    expect(eventForTransition(taskRow('in_progress', 'cancelled', { actor: 'alice', reason: 'duplicate order' }))).toEqual({
      event: TaskerEvents.TASK_CANCELLED,
      ...base,
      actor: 'alice',
      reason: 'duplicate order',
    });
    const e = eventForTransition(taskRow('in_progress', 'complete'))!;
    expect('actor' in e).toBe(false);
    expect('reason' in e).toBe(false);
  });

  it('turns bigint-ish ids into strings', () => {
    expect(eventForTransition(taskRow(null, 'pending', { task_id: 9007199254740993n as never }))!.taskId).toBe('9007199254740993');
  });
});

describe('eventForTransition: step rows', () => {
  const stepBase = { ...base, stepId: '70', stepName: 'charge', attempt: 1 };

  it.each([
    ['pending', 'in_progress', TaskerEvents.STEP_STARTED],
    ['error', 'in_progress', TaskerEvents.STEP_STARTED],
    ['in_progress', 'complete', TaskerEvents.STEP_COMPLETED],
    ['pending', 'resolved_manually', TaskerEvents.STEP_RESOLVED_MANUALLY],
    ['error', 'resolved_manually', TaskerEvents.STEP_RESOLVED_MANUALLY],
    ['pending', 'cancelled', TaskerEvents.STEP_CANCELLED],
    ['in_progress', 'cancelled', TaskerEvents.STEP_CANCELLED],
  ] as const)('%s → %s is %s', (from, to, event) => {
    expect(eventForTransition(stepRow(from, to))).toEqual({ event, ...stepBase });
  });

  it('has no event for error → pending (retryTask) or in_progress → pending (release)', () => {
    expect(eventForTransition(stepRow('error', 'pending'))).toBeNull();
    expect(eventForTransition(stepRow('in_progress', 'pending'))).toBeNull();
  });

  it('completed carries the duration', () => {
    expect(eventForTransition(stepRow('in_progress', 'complete', { attempt: 2, duration_ms: 15 }))).toEqual({
      event: TaskerEvents.STEP_COMPLETED,
      ...stepBase,
      attempt: 2,
      durationMs: 15,
    });
  });

  it('a failed attempt that will retry says when', () => {
    const next = new Date('2030-01-01T00:00:05Z');
    expect(
      eventForTransition(
        stepRow('in_progress', 'error', {
          attempt: 1,
          duration_ms: 3,
          error: { name: 'RetryableError', message: '429', code: 'RATE_LIMITED' },
          next_retry_at: next,
        }),
      ),
    ).toEqual({
      event: TaskerEvents.STEP_FAILED,
      ...stepBase,
      durationMs: 3,
      error: { name: 'RetryableError', message: '429', code: 'RATE_LIMITED' },
      willRetry: true,
      nextRetryAt: next,
    });
  });

  it('a final failure has willRetry false, no nextRetryAt, and never leaks the stack', () => {
    const e = eventForTransition(
      stepRow('in_progress', 'error', {
        attempt: 3,
        error: { name: 'PermanentError', message: 'declined', stack: 'at secret.ts:1' } as never,
      }),
    );
    expect(e).toEqual({
      event: TaskerEvents.STEP_FAILED,
      ...stepBase,
      attempt: 3,
      error: { name: 'PermanentError', message: 'declined' },
      willRetry: false,
    });
  });

  it('a failure recorded without an error still carries one', () => {
    const e = eventForTransition(stepRow('in_progress', 'error', { attempt: null }));
    expect(e).toMatchObject({ event: TaskerEvents.STEP_FAILED, attempt: 0, error: { name: 'Error', message: 'unknown error' }, willRetry: false });
  });

  it('cancelled and resolved carry actor and reason, and omit a null attempt', () => {
    expect(eventForTransition(stepRow('pending', 'cancelled', { attempt: null, actor: 'bob', reason: 'stop' }))).toEqual({
      event: TaskerEvents.STEP_CANCELLED,
      ...base,
      stepId: '70',
      stepName: 'charge',
      actor: 'bob',
      reason: 'stop',
    });
  });
});

describe('eventForTransition: dynamic steps and signals', () => {
  const step = (from: string | null, to: string, reason: string | null = null): TransitionRow => ({
    kind: 'step',
    transition_id: '9',
    task_id: '1',
    task_name: 'order',
    namespace: 'shop',
    version: '1.0.0',
    step_id: '10',
    step_name: 'ship',
    from_state: from as TransitionRow['from_state'],
    to_state: to as TransitionRow['to_state'],
    attempt: 1,
    actor: null,
    reason,
    error: null,
    next_retry_at: null,
    duration_ms: null,
    at,
    task_created_at: at,
    trace_context: null,
  });

  it('a claim of a wait that can end is no new attempt: no step.started', () => {
    expect(eventForTransition(step('waiting', 'in_progress'))).toBeNull();
    expect(eventForTransition(step('pending', 'in_progress'))?.event).toBe(TaskerEvents.STEP_STARTED);
  });

  it('skips and waits have their own events, with their reason', () => {
    expect(eventForTransition(step('in_progress', 'skipped', 'condition false'))).toMatchObject({ event: TaskerEvents.STEP_SKIPPED, reason: 'condition false' });
    expect(eventForTransition(step('pending', 'skipped', 'all parents skipped'))?.event).toBe(TaskerEvents.STEP_SKIPPED);
    expect(eventForTransition(step('in_progress', 'waiting', 'waiting for signal "approved"'))).toMatchObject({
      event: TaskerEvents.STEP_WAITING,
      reason: 'waiting for signal "approved"',
    });
    expect(eventForTransition(step('waiting', 'complete'))?.event).toBe(TaskerEvents.STEP_COMPLETED);
  });

  it('a signal is signal.received with its name and sender', () => {
    expect(eventForTransition({ ...step(null, 'received'), kind: 'signal', step_id: null, step_name: 'approved', actor: 'alice' })).toEqual({
      event: TaskerEvents.SIGNAL_RECEIVED,
      taskId: '1',
      taskName: 'order',
      namespace: 'shop',
      version: '1.0.0',
      occurredAt: at,
      actor: 'alice',
      signalName: 'approved',
    });
  });
});
