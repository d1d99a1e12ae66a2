/** What follows a failed attempt. Pure: time and randomness come from the caller. */
import { PermanentError, RetryableError } from '../errors/step.errors';
import { TaskerError } from '../errors/tasker.error';
import type { SerializedError } from '../errors/serialized-error';
import type { BackoffOptions } from '../interfaces/backoff-options.interface';
import { backoffDelayMs } from './backoff';

const MAX_MESSAGE = 10_000;
const MAX_STACK = 20_000;

/**
 * Turns anything a step may throw (also strings, numbers, null, objects) into a storable error.
 * Never throws itself, also for a thrown Proxy whose traps throw or an Error whose getters throw:
 * if it threw, the attempt's outcome would never be recorded, and the step would hang until its
 * lease expired.
 */
export function serializeError(err: unknown): SerializedError {
  try {
    return describeThrown(err);
  } catch {
    return { name: 'NonErrorThrown', message: 'A step threw a value that cannot be inspected (its properties throw when read).' };
  }
}

function describeThrown(err: unknown): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name || 'Error', message: truncate(String(err.message ?? ''), MAX_MESSAGE) };
    const code = err instanceof TaskerError ? err.code : (err as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') out.code = String(code);
    if (typeof err.stack === 'string') out.stack = truncate(err.stack, MAX_STACK);
    return out;
  }
  return { name: 'NonErrorThrown', message: truncate(`A step threw a non-Error value: ${describe(err)}`, MAX_MESSAGE) };
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    const s = JSON.stringify(v);
    if (s !== undefined) return s;
  } catch {
    // fall through: circular or BigInt
  }
  return String(v);
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length - max} more characters)` : s;
}

export interface AttemptInfo {
  attempt: number;
  retryLimit: number;
  retryable: boolean;
  backoff: BackoffOptions;
}

/** `retryAt` null means the step will not be tried again (until an operator retries the task). */
export function retryTimeFor(err: unknown, info: AttemptInfo, now: number, random: () => number = Math.random): Date | null {
  // instanceof reads the prototype, which a thrown Proxy may refuse: such a value is a plain failure.
  const is = <T>(cls: abstract new (...args: never[]) => T): boolean => {
    try {
      return err instanceof cls;
    } catch {
      return false;
    }
  };
  if (is(PermanentError)) return null;
  if (!info.retryable || info.attempt >= info.retryLimit) return null;
  if (is(RetryableError) && (err as RetryableError).retryAfterMs !== undefined) return new Date(now + (err as RetryableError).retryAfterMs!);
  return new Date(now + backoffDelayMs(info.attempt, info.backoff, random));
}
