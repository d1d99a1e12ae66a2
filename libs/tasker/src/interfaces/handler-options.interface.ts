import type { BackoffOptions } from './backoff-options.interface';

/** Options of `@TaskHandler` (SPEC §2). */
export interface TaskHandlerOptions {
  name: string;
  /** Default `default`. */
  namespace?: string;
  /** Default `0.1.0`. Several versions of one task may be registered at once. */
  version?: string;
  description?: string;
  /** A class-validator DTO the task context must satisfy; checked by `createTask`. */
  context?: new (...args: any[]) => object;
}

/** Options of `@Step`. */
export interface StepOptions {
  /** Default: the method name. */
  name?: string;
  description?: string;
  /** Total attempts, first included. Default: the module's `defaults.retryLimit`. */
  retryLimit?: number;
  /** `false`: a single attempt, never retried. Default `true`. */
  retryable?: boolean;
  /** The attempt fails (and its `signal` aborts) after this long. */
  timeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
}
