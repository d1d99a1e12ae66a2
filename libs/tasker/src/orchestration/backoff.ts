/** Retry timing. Pure: the caller passes the random source, so tests are exact. */
import type { BackoffOptions } from '../interfaces/backoff-options.interface';

export function jitterFraction(jitter: number | boolean): number {
  if (jitter === true) return 0.2;
  if (jitter === false) return 0;
  return jitter;
}

/** Delay before the attempt after `failedAttempt` (1-based): base·2^(n-1), capped, minus up to jitter·delay. */
export function backoffDelayMs(failedAttempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(failedAttempt - 1, 52);
  const raw = Math.min(opts.maxMs, opts.baseMs * 2 ** exp);
  const j = jitterFraction(opts.jitter);
  return Math.max(0, Math.round(raw * (1 - j * random())));
}
