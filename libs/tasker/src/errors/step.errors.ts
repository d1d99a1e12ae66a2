import { TaskerError } from './tasker.error';

/** Thrown by a step: the failure is final, the step is never attempted again. */
export class PermanentError extends TaskerError {
  constructor(message: string, opts: { code?: string } = {}) {
    super(opts.code ?? 'PERMANENT', message);
  }
}

/** Thrown by a step: try again, after exactly `retryAfterMs` when given (e.g. HTTP 429 Retry-After). */
export class RetryableError extends TaskerError {
  readonly retryAfterMs?: number;
  constructor(message: string, opts: { retryAfterMs?: number; code?: string } = {}) {
    super(opts.code ?? 'RETRYABLE', message);
    if (opts.retryAfterMs !== undefined) {
      if (!Number.isFinite(opts.retryAfterMs) || opts.retryAfterMs < 0) {
        throw new TypeError(`RetryableError: retryAfterMs must be a finite number >= 0, got ${opts.retryAfterMs}`);
      }
      this.retryAfterMs = opts.retryAfterMs;
    }
  }
}

/** The step ran longer than its `timeoutMs`; its signal was aborted. Retried like any failure. */
export class StepTimeoutError extends TaskerError {
  constructor(timeoutMs: number) {
    super('STEP_TIMEOUT', `Step timed out after ${timeoutMs} ms.`);
  }
}

/** The step returned something that cannot be stored as JSON. Not retried: it would fail again. */
export class StepResultError extends PermanentError {
  constructor(reason: string) {
    super(`Step result cannot be stored as JSON: ${reason}`, { code: 'STEP_RESULT_INVALID' });
  }
}

/** The worker running the attempt stopped renewing its lease (crash, kill -9, partition). */
export class LeaseExpiredError extends TaskerError {
  constructor(owner: string) {
    super('LEASE_EXPIRED', `The lease of worker ${owner} expired before the attempt finished.`);
  }
}
