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
  /**
   * Cron schedules: each tick creates one task of this type with the schedule's context, across the
   * whole fleet (see ScheduleOptions). Fired by the processes that have this handler and a worker.
   */
  schedules?: ScheduleOptions[];
  /**
   * At most `limit` tasks of this type with the same key are in progress, across all processes; the
   * others stay pending and start as slots free. `key`: a dotted path into the context (fixed at
   * createTask; a missing value is the key ""; `TaskRequest.concurrencyKey` overrides it); omitted:
   * one group for the whole task type.
   */
  concurrency?: ConcurrencyOptions;
}

/** A concurrency limit: at most `limit` at once per value of `key` (a dotted path into the task's context). */
export interface ConcurrencyOptions {
  key?: string;
  limit: number;
}

/** A rate limit: at most `limit` attempts start in any `periodMs` (sliding) per (bucket, value of `key`). */
export interface RateLimitOptions {
  /** Steps of any type that name the same bucket share it. */
  bucket: string;
  limit: number;
  periodMs: number;
  key?: string;
}

/** One schedule of `@TaskHandler({ schedules })`. */
export interface ScheduleOptions {
  /**
   * A cron expression of 5 fields (minute hour day-of-month month day-of-week), or 6 with a leading
   * second (`* * * * * *`: every second); month and day names (`jan`, `mon`) and presets (`@daily`)
   * work too. Parsed by the `cron` package; a bad expression fails the boot.
   */
  cron: string;
  /** The IANA time zone the expression is read in (`Europe/Berlin`). Default `UTC`. */
  timezone?: string;
  /** The context of each task it creates (checked by the handler's context DTO at boot). Default `{}`. */
  context?: Record<string, unknown>;
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
  /** At most `limit` attempts of this step with the same key run at once, across all processes. */
  concurrency?: ConcurrencyOptions;
  /** At most `limit` attempts start per `periodMs` and (bucket, key), across all processes; held steps start as soon as the window allows. */
  rateLimit?: RateLimitOptions;
}
