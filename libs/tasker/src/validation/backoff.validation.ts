/** Checks of backoff options (the module's `defaults.backoff`, a step's `backoff`). Pure. */
import type { BackoffOptions } from '../interfaces/backoff-options.interface';
import { BACKOFF_BASE_INVALID, BACKOFF_JITTER_INVALID, BACKOFF_MAX_INVALID } from '../tasker.messages';

/** Every problem of partial backoff options, each named with `where` (`defaults.backoff`). */
export function backoffProblems(b: Partial<BackoffOptions>, where: string): string[] {
  const out: string[] = [];
  if (b.baseMs !== undefined && !(Number.isFinite(b.baseMs) && b.baseMs >= 0)) out.push(BACKOFF_BASE_INVALID(where));
  if (b.maxMs !== undefined && !(Number.isFinite(b.maxMs) && b.maxMs >= 0)) out.push(BACKOFF_MAX_INVALID(where));
  if (b.jitter !== undefined && typeof b.jitter !== 'boolean' && !(typeof b.jitter === 'number' && b.jitter >= 0 && b.jitter <= 1)) {
    out.push(BACKOFF_JITTER_INVALID(where));
  }
  return out;
}
