import { RETRY_AFTER_INVALID, STEP_RESULT_INVALID, STEP_TIMED_OUT } from '../tasker.messages';
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
        throw new TypeError(RETRY_AFTER_INVALID(opts.retryAfterMs));
      }
      this.retryAfterMs = opts.retryAfterMs;
    }
  }
}

/** The step ran longer than its `timeoutMs`; its signal was aborted. Retried like any failure. */
export class StepTimeoutError extends TaskerError {
  constructor(timeoutMs: number) {
    super('STEP_TIMEOUT', STEP_TIMED_OUT(timeoutMs));
  }
}

/** The step returned something that cannot be stored as JSON. Not retried: it would fail again. */
export class StepResultError extends PermanentError {
  constructor(reason: string) {
    super(STEP_RESULT_INVALID(reason), { code: 'STEP_RESULT_INVALID' });
  }
}
