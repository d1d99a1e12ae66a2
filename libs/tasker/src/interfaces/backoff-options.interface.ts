/** Retry timing of a step: `defaults.backoff` of the module, `backoff` of `@Step`. */
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
