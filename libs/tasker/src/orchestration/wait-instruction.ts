/** What a step's body returns to wait, and how the engine reads it. Pure. */
import type { TaskRequest } from '../interfaces/views.interface';
import type { WaitInstruction } from '../interfaces/step-context.interface';

const WAIT = Symbol('tasker.wait');

/** A wait as the engine stores it (wait_step's p_wait), plus the child's request for startChild. */
export type Wait =
  | { kind: 'signal'; name: string; timeoutMs?: number }
  | { kind: 'sleep'; ms: number }
  | { kind: 'child'; request: TaskRequest };

export function waitInstruction(wait: Wait): WaitInstruction {
  return { [WAIT]: wait } as unknown as WaitInstruction;
}

/** The wait a step returned, if it returned one. */
export function waitOf(value: unknown): Wait | undefined {
  return typeof value === 'object' && value !== null && WAIT in value ? (value as Record<symbol, Wait>)[WAIT] : undefined;
}
