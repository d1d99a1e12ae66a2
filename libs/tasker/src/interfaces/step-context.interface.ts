import type { TaskRequest } from './views.interface';

declare const waitBrand: unique symbol;

/**
 * What a step returns to wait (from `ctx.waitForSignal`, `ctx.startChild` or `ctx.sleep`): the step
 * becomes `waiting`, frees its worker, and completes when the wait ends. Opaque: return it as is.
 */
export interface WaitInstruction {
  readonly [waitBrand]: true;
}

/** What a step method receives. `I`: the item type of a map step's instances. */
export interface StepContext<C = Record<string, unknown>, I = unknown> {
  task: {
    id: string;
    name: string;
    namespace: string;
    version: string;
    context: C;
    tags: string[];
  };
  step: {
    id: string;
    name: string;
    /** 1 for the first attempt. */
    attempt: number;
    retryLimit: number;
  };
  /**
   * Results of this step's dependencies, by step name (a skipped dependency has none). An instance of
   * a map step gets `{}`: what it needs is its `item` (put it in the items).
   */
  results: Record<string, unknown>;
  /** An instance of a map step: its item, and the item's position in the map's array. */
  item?: I;
  index?: number;
  /** Aborted on timeout, task cancellation and worker shutdown. */
  signal: AbortSignal;
  /** Extends this attempt's lease now (the worker also renews it while the step runs). */
  heartbeat(): Promise<void>;
  /**
   * Return this to wait for `TaskerService.signal(taskId, name, payload)`: the step's results are the
   * signal's payload. A signal sent before the step waits is kept for it. After `timeoutMs` without
   * the signal the step fails with code `WAIT_TIMEOUT` (not retried).
   */
  waitForSignal(name: string, opts?: { timeoutMs?: number }): WaitInstruction;
  /**
   * Return this to run another task as a child of this step, created exactly once: the step completes
   * with `{ taskId, results: { <step>: <results> } }` when the child completes, and fails with code
   * `CHILD_TASK_FAILED` (not retried) when it fails; retrying this task retries the child.
   */
  startChild(request: TaskRequest): WaitInstruction;
  /** Return this to complete the step with `null` after `ms` milliseconds, durably (across restarts). */
  sleep(ms: number): WaitInstruction;
}
