/** Task and step states. Pure: no Nest, no database. */
export const STATES = ['pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually'] as const;
export type TaskState = (typeof STATES)[number];
/**
 * A step has two more: `skipped` (its condition was false, or every parent was skipped; it counts as
 * done) and `waiting` (its body ran; it waits for a signal, a child task, a time or its map instances,
 * holding no worker).
 */
export const STEP_STATES = [...STATES, 'skipped', 'waiting'] as const;
export type StepState = (typeof STEP_STATES)[number];

export const TERMINAL_TASK_STATES: readonly TaskState[] = ['complete', 'cancelled', 'resolved_manually'];
/** Steps that count as done for their dependents and for task completion (a skipped one counts as skipped for the join rule). */
export const DONE_STEP_STATES: readonly StepState[] = ['complete', 'resolved_manually', 'skipped'];

const TASK_MOVES: Record<TaskState, readonly TaskState[]> = {
  pending: ['in_progress', 'complete', 'cancelled', 'error'],
  in_progress: ['complete', 'error', 'cancelled'],
  error: ['pending', 'in_progress', 'complete', 'cancelled'],
  complete: [],
  cancelled: [],
  resolved_manually: [],
};

const STEP_MOVES: Record<StepState, readonly StepState[]> = {
  pending: ['in_progress', 'cancelled', 'resolved_manually', 'skipped'],
  in_progress: ['complete', 'error', 'cancelled', 'pending', 'skipped', 'waiting'],
  error: ['in_progress', 'pending', 'cancelled', 'resolved_manually', 'waiting'],
  waiting: ['in_progress', 'complete', 'cancelled', 'resolved_manually'],
  complete: [],
  cancelled: [],
  resolved_manually: [],
  skipped: [],
};

export function isState(value: unknown): value is TaskState {
  return typeof value === 'string' && (STATES as readonly string[]).includes(value);
}

export function canTaskMove(from: TaskState, to: TaskState): boolean {
  return TASK_MOVES[from].includes(to);
}

export function canStepMove(from: StepState, to: StepState): boolean {
  return STEP_MOVES[from].includes(to);
}

export function isTerminalTaskState(state: TaskState): boolean {
  return TERMINAL_TASK_STATES.includes(state);
}

/** States in which a task no longer moves by itself: waitForTask returns on these. */
export const SETTLED_TASK_STATES: readonly TaskState[] = ['complete', 'error', 'cancelled', 'resolved_manually'];
