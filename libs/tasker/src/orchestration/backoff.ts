/** Retry timing. Pure: the caller passes the random source, so tests are exact. */
export interface BackoffOptions {
  /** Delay before the 2nd attempt; doubles each attempt. */
  baseMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
  /**
   * Fraction (0..1) of the delay that is randomised, spreading retries of many steps that failed
   * together. `true` means 0.2, `false` means 0.
   */
  jitter: number | boolean;
}

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

export function backoffProblems(b: Partial<BackoffOptions>, where: string): string[] {
  const out: string[] = [];
  if (b.baseMs !== undefined && !(Number.isFinite(b.baseMs) && b.baseMs >= 0)) out.push(`${where}.baseMs must be a number >= 0`);
  if (b.maxMs !== undefined && !(Number.isFinite(b.maxMs) && b.maxMs >= 0)) out.push(`${where}.maxMs must be a number >= 0`);
  if (b.jitter !== undefined && typeof b.jitter !== 'boolean' && !(typeof b.jitter === 'number' && b.jitter >= 0 && b.jitter <= 1)) {
    out.push(`${where}.jitter must be a boolean or a number from 0 to 1`);
  }
  return out;
}
