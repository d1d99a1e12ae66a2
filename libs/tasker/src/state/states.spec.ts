import {
  canStepMove,
  canTaskMove,
  DONE_STEP_STATES,
  isState,
  isTerminalTaskState,
  SETTLED_TASK_STATES,
  STATES,
  STEP_STATES,
  StepState,
  TaskState,
  TERMINAL_TASK_STATES,
} from './states';

describe('states', () => {
  it('are exactly the six of the contract, and a step has skipped and waiting too', () => {
    expect([...STATES]).toEqual(['pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually']);
    expect([...STEP_STATES]).toEqual([...STATES, 'skipped', 'waiting']);
  });

  it('isState accepts only those strings', () => {
    for (const s of STATES) expect(isState(s)).toBe(true);
    for (const v of ['PENDING', 'done', '', null, undefined, 1, { state: 'pending' }]) expect(isState(v)).toBe(false);
  });

  it('terminal, settled and done sets', () => {
    expect([...TERMINAL_TASK_STATES].sort()).toEqual(['cancelled', 'complete', 'resolved_manually']);
    // a task in error waits for an operator: settled for waitForTask, but not terminal
    expect([...SETTLED_TASK_STATES].sort()).toEqual(['cancelled', 'complete', 'error', 'resolved_manually']);
    expect([...DONE_STEP_STATES].sort()).toEqual(['complete', 'resolved_manually', 'skipped']);
    expect(isTerminalTaskState('error')).toBe(false);
    expect(isTerminalTaskState('in_progress')).toBe(false);
    expect(isTerminalTaskState('complete')).toBe(true);
    expect(isTerminalTaskState('cancelled')).toBe(true);
  });
});

/** Every move the SQL engine (persistence/functions/*.sql) makes must be legal in the table. */
const ENGINE_TASK_MOVES: [TaskState, TaskState][] = [
  ['pending', 'in_progress'], // claim / _start_if_pending
  ['in_progress', 'complete'], // _settle_task
  ['pending', 'complete'], // every step resolved before any ran
  ['in_progress', 'error'], // a step exhausted its attempts
  ['error', 'in_progress'], // an operator resolved the failed step
  ['error', 'pending'], // retry_task
  ['pending', 'cancelled'],
  ['in_progress', 'cancelled'],
  ['error', 'cancelled'],
];
const ENGINE_STEP_MOVES: [StepState, StepState][] = [
  ['pending', 'in_progress'], // claim
  ['error', 'in_progress'], // claim of a retry
  ['in_progress', 'complete'],
  ['in_progress', 'error'],
  ['in_progress', 'cancelled'], // attempt returned after cancel
  ['in_progress', 'pending'], // release at shutdown
  ['error', 'pending'], // retry_task
  ['pending', 'cancelled'],
  ['error', 'cancelled'],
  ['pending', 'resolved_manually'],
  ['error', 'resolved_manually'],
  ['in_progress', 'skipped'], // skip_step: condition false
  ['pending', 'skipped'], // _skip_cascade: every parent skipped
  ['in_progress', 'waiting'], // wait_step, expand_map
  ['waiting', 'in_progress'], // claim of a wait that can end
  ['waiting', 'complete'], // a signal delivered, a map step's instances all done
  ['waiting', 'cancelled'],
  ['waiting', 'resolved_manually'],
  ['error', 'waiting'], // retry_task: a failed child is retried
];

describe('transition table', () => {
  it.each(ENGINE_TASK_MOVES)('task %s → %s is allowed', (from, to) => {
    expect(canTaskMove(from, to)).toBe(true);
  });

  it.each(ENGINE_STEP_MOVES)('step %s → %s is allowed', (from, to) => {
    expect(canStepMove(from, to)).toBe(true);
  });

  it('terminal states never move, for tasks and steps', () => {
    for (const from of ['complete', 'cancelled', 'resolved_manually'] as const) {
      for (const to of STATES) {
        expect(canTaskMove(from, to)).toBe(false);
        expect(canStepMove(from, to)).toBe(false);
      }
    }
    for (const to of STEP_STATES) expect(canStepMove('skipped', to)).toBe(false);
  });

  it('no state moves to itself', () => {
    for (const s of STATES) {
      expect(canTaskMove(s, s)).toBe(false);
      expect(canStepMove(s, s)).toBe(false);
    }
  });

  it('refuses the illegal moves a step could be pushed into', () => {
    expect(canStepMove('pending', 'complete')).toBe(false); // must run first
    expect(canStepMove('pending', 'error')).toBe(false);
    expect(canStepMove('error', 'complete')).toBe(false);
    expect(canStepMove('in_progress', 'resolved_manually')).toBe(false); // only waiting or failed steps
    expect(canStepMove('in_progress', 'in_progress')).toBe(false);
  });

  it('a task never becomes resolved_manually by a move', () => {
    for (const from of STATES) expect(canTaskMove(from, 'resolved_manually')).toBe(false);
  });
});
