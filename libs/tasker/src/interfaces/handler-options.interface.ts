import type { BackoffOptions } from './backoff-options.interface';
import type { StepContext } from './step-context.interface';

/** Options of `@TaskHandler`. */
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
  /**
   * Evaluated by a worker when the step becomes ready, with the context the step would get: `false`
   * skips the step (state `skipped`, no attempt used); a dependent whose parents are all skipped is
   * skipped too. A throw fails the attempt like an error of the step.
   */
  runIf?: (ctx: StepContext<any>) => boolean | Promise<boolean>;
  /**
   * Makes this a map step: evaluated when the step becomes ready, it returns a JSON array (at most
   * 10,000 items) and the step runs once per item, as instances `<name>[0]`, `<name>[1]`, … each with
   * `ctx.item` and `ctx.index`. Dependents get the instances' results as an array, in item order.
   */
  map?: (ctx: StepContext<any>) => unknown[] | Promise<unknown[]>;
  /** With `map`: at most this many instances of one task run at once. Default: no limit. */
  maxParallel?: number;
}
