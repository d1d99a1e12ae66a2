import { Inject, Injectable } from '@nestjs/common';
import type { RetryDelays } from '../interfaces/tasker-options.interface';
import { TASKER_RETRY_DELAYS } from '../tasker.constants';
import { PermanentError, StepResultError, StepTimeoutError } from '../errors/step.errors';
import type { StepContext } from '../interfaces/step-context.interface';
import type { ClaimRow } from '../persistence/rows';
import type { RegisteredHandler } from '../registry/handler.registry';
import type { BackoffOptions } from '../interfaces/backoff-options.interface';
import { contextProblems } from '../validation/context.validation';
import { summarize } from '../validation/request.validation';
import type { SerializedError } from '../errors/serialized-error';
import type { NewTaskRow } from '../persistence/task.repository';
import {
  CHILD_TASK_FAILED,
  MAP_ITEMS_NOT_JSON,
  MAP_NOT_ARRAY,
  MAP_TOO_LARGE,
  RUN_IF_NOT_BOOLEAN,
  SLEEP_MS_INVALID,
  WAIT_SIGNAL_NAME_INVALID,
  WAIT_TIMED_OUT,
  WAIT_TIMEOUT_MS_INVALID,
} from '../tasker.messages';
import { isValidName } from '../validation/names.validation';
import { retryTimeFor, serializeError } from './outcome';
import { TaskRequestBuilder } from './task-request.builder';
import { Wait, waitInstruction, waitOf } from './wait-instruction';

/** Results larger than this are refused: a step should store references, not payloads. */
export const MAX_RESULT_BYTES = 8 * 1024 * 1024;
/** A map step expands into at most this many instances. */
export const MAX_MAP_ITEMS = 10_000;
const MAX_SLEEP_MS = 100 * 365 * 86_400_000;

export type AttemptOutcome =
  | { kind: 'success'; resultsJson: string }
  | { kind: 'failure'; error: SerializedError; retryAt: Date | null }
  /** The worker is stopping: give the attempt back without using it up. */
  | { kind: 'released'; reason: string }
  /** The lease was lost: another worker owns the step now; nothing may be recorded. */
  | { kind: 'abandoned' }
  /** The step's condition was false: skipped, no attempt used. */
  | { kind: 'skipped'; reason: string }
  /** A map step's items (JSON text of the array): it expands into one instance per item. */
  | { kind: 'expand'; itemsJson: string; maxParallel: number | null }
  /** The body returned a wait: the step waits, holding no worker; `child`: the task to start. */
  | { kind: 'wait'; wait: Record<string, unknown>; child: NewTaskRow | null };

/** Why the worker aborted an attempt's signal. */
export class AttemptAbort extends Error {
  constructor(
    readonly why: 'cancelled' | 'shutdown' | 'lease_lost',
    message: string,
  ) {
    super(message);
    this.name = why === 'cancelled' ? 'TaskCancelledError' : 'AbortError';
  }
}

/** Runs one attempt of one step: builds its context, enforces its timeout, classifies the outcome. */
@Injectable()
export class StepExecutor {
  constructor(
    @Inject(TASKER_RETRY_DELAYS) private readonly retryDelays: RetryDelays,
    private readonly requests: TaskRequestBuilder,
  ) {}

  async run(
    claim: ClaimRow,
    handler: RegisteredHandler,
    controller: AbortController,
    heartbeat: () => Promise<void>,
  ): Promise<AttemptOutcome> {
    // An instance of a map step (`resize[3]`) runs its map step's method.
    const stepName = claim.map_index === null ? claim.step_name : claim.step_name.slice(0, claim.step_name.lastIndexOf('['));
    const def = handler.steps.find((s) => s.name === stepName);
    const method = def && handler.instance?.[def.methodName];
    if (!def || typeof method !== 'function') {
      return this.failure(
        new PermanentError(`Handler ${handler.namespace}/${handler.name}@${handler.version} has no step "${claim.step_name}" any more.`),
        claim,
      );
    }
    // A wait that can end: how it ended is recorded, the body does not run again.
    if (claim.resume) return this.resumed(claim, claim.resume);
    // A task created by a process without this handler (the API-only admin service) had its
    // context checked by no DTO: its root steps check it here, before any work is done.
    if (handler.contextDto && def.dependsOn.length === 0 && claim.map_index === null) {
      const problems = await contextProblems(handler.contextDto, claim.context);
      if (problems.length > 0) {
        return this.failure(
          new PermanentError(`Task context is invalid for ${handler.namespace}/${handler.name}@${handler.version}: ${summarize(problems)}`, {
            code: 'TASK_VALIDATION',
          }),
          claim,
        );
      }
    }
    const ctx: StepContext = {
      task: {
        id: String(claim.task_id),
        name: claim.task_name,
        namespace: claim.namespace,
        version: claim.version,
        context: claim.context,
        tags: claim.tags,
      },
      step: { id: String(claim.step_id), name: claim.step_name, attempt: claim.attempt, retryLimit: claim.retry_limit },
      results: claim.parent_results,
      ...(claim.map_index !== null ? { item: claim.item, index: claim.map_index } : {}),
      // Made when first read: most bodies never look at it, and a signal costs a worker per step.
      get signal() {
        return controller.signal;
      },
      heartbeat,
      waitForSignal: (name, opts) => waitInstruction(signalWait(name, opts)),
      startChild: (request) => waitInstruction({ kind: 'child', request }),
      sleep: (ms) => waitInstruction(sleepWait(ms)),
    };
    // A map step's instances only run: its condition and its items were the map step's own attempt.
    const decide = claim.map_index === null;
    // A body with nothing to decide before it (no condition, no map) is called at once; when it
    // returns or throws without waiting, the attempt ends there, with no watch on its signal or time.
    const direct = !(decide && (def.runIf || def.map));
    let first: unknown;
    if (direct) {
      // Whatever the body throws, or its value throws when looked at (a hostile Proxy), is its failure.
      try {
        first = method.call(handler.instance, ctx);
        if (!isThenable(first)) return await this.settle(first, claim);
      } catch (err) {
        return this.failure(err, claim);
      }
    }

    const signal = controller.signal;
    const timer =
      claim.timeout_ms !== null ? setTimeout(() => controller.abort(new StepTimeoutError(claim.timeout_ms!)), claim.timeout_ms) : undefined;
    // A step that ignores its signal must not hold the worker: the attempt ends when the signal aborts.
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      const attempt = async (): Promise<AttemptOutcome> => {
        if (direct) return this.settle(await first, claim);
        if (decide && def.runIf) {
          const run = await def.runIf(ctx);
          if (typeof run !== 'boolean') throw new PermanentError(RUN_IF_NOT_BOOLEAN(run), { code: 'RUN_IF_INVALID' });
          if (!run) return { kind: 'skipped', reason: 'condition false' };
        }
        if (decide && def.map) return this.expansion(await def.map(ctx), def.maxParallel ?? null, claim);
        return this.settle(await method.call(handler.instance, ctx), claim);
      };
      return await Promise.race([Promise.resolve().then(attempt), aborted]);
    } catch (err) {
      const reason = signal.aborted ? signal.reason : undefined;
      if (reason instanceof AttemptAbort && reason.why === 'shutdown') return { kind: 'released', reason: reason.message };
      if (reason instanceof AttemptAbort && reason.why === 'lease_lost') return { kind: 'abandoned' };
      // On timeout, report the timeout even if the step rejected with its own AbortError first.
      return this.failure(reason instanceof StepTimeoutError || reason instanceof AttemptAbort ? reason : err, claim);
    } finally {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** What a body's value means: a wait it asked for, or its results. */
  private async settle(value: unknown, claim: ClaimRow): Promise<AttemptOutcome> {
    const wait = waitOf(value);
    return wait ? await this.waiting(wait) : this.success(value, claim);
  }

  private expansion(items: unknown, maxParallel: number | null, claim: ClaimRow): AttemptOutcome {
    if (!Array.isArray(items)) return this.failure(new PermanentError(MAP_NOT_ARRAY(items), { code: 'MAP_INVALID' }), claim);
    if (items.length > MAX_MAP_ITEMS) {
      return this.failure(new PermanentError(MAP_TOO_LARGE(items.length, MAX_MAP_ITEMS), { code: 'MAP_TOO_LARGE' }), claim);
    }
    let itemsJson: string;
    try {
      // An item JSON cannot hold (undefined, a function) is stored as null, as in any JSON array.
      itemsJson = JSON.stringify(items);
    } catch (e) {
      return this.failure(new PermanentError(MAP_ITEMS_NOT_JSON((e as Error).message), { code: 'MAP_INVALID' }), claim);
    }
    return { kind: 'expand', itemsJson, maxParallel };
  }

  private async waiting(wait: Wait): Promise<AttemptOutcome> {
    if (wait.kind === 'sleep') {
      const ms = this.retryDelays === 'skip' ? 0 : wait.ms;
      return { kind: 'wait', wait: { kind: 'sleep', until: new Date(Date.now() + ms).toISOString() }, child: null };
    }
    if (wait.kind === 'signal') return { kind: 'wait', wait: { ...wait }, child: null };
    // The child's request is checked like createTask's; a bad one fails the attempt (and is retried like any error).
    return { kind: 'wait', wait: { kind: 'child' }, child: await this.requests.build(wait.request, 'child.') };
  }

  /** How a wait that the claim took back ended. */
  private resumed(claim: ClaimRow, resume: NonNullable<ClaimRow['resume']>): AttemptOutcome {
    if (resume.kind === 'sleep') return { kind: 'success', resultsJson: 'null' };
    if (resume.kind === 'signal') {
      const error = new PermanentError(WAIT_TIMED_OUT(resume.name, resume.timeoutMs), { code: 'WAIT_TIMEOUT' });
      return { kind: 'failure', error: serializeError(error), retryAt: null };
    }
    if (resume.state === 'complete' || resume.state === 'resolved_manually') {
      return this.success({ taskId: resume.taskId, results: resume.results }, claim);
    }
    if (resume.state === 'error' || resume.state === 'cancelled') {
      const error = new PermanentError(CHILD_TASK_FAILED(resume.taskId, resume.state), { code: 'CHILD_TASK_FAILED' });
      return { kind: 'failure', error: serializeError(error), retryAt: null };
    }
    // Taken back before its child settled: it waits for the same child again.
    return { kind: 'wait', wait: { kind: 'child' }, child: null };
  }

  private success(value: unknown, claim: ClaimRow): AttemptOutcome {
    let json: string | undefined;
    try {
      json = JSON.stringify(value === undefined ? null : value);
    } catch (e) {
      return this.failure(new StepResultError((e as Error).message), claim);
    }
    if (json === undefined) json = 'null'; // a function or symbol: nothing storable
    if (Buffer.byteLength(json) > MAX_RESULT_BYTES) {
      return this.failure(
        new StepResultError(`it is ${Buffer.byteLength(json)} bytes, more than the ${MAX_RESULT_BYTES} allowed; store large data elsewhere and return a reference`),
        claim,
      );
    }
    return { kind: 'success', resultsJson: json };
  }

  private failure(err: unknown, claim: ClaimRow): AttemptOutcome {
    const backoff = claim.backoff as BackoffOptions;
    const retryAt = retryTimeFor(
      err,
      { attempt: claim.attempt, retryLimit: claim.retry_limit, retryable: claim.retryable, backoff },
      Date.now(),
    );
    // retryDelays 'skip' (the testing kit): the same retry decisions, without waiting for them.
    const due = retryAt && this.retryDelays === 'skip' ? new Date() : retryAt;
    return { kind: 'failure', error: serializeError(err), retryAt: due };
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

function signalWait(name: unknown, opts?: { timeoutMs?: number }): Wait {
  if (typeof name !== 'string' || !isValidName(name)) throw new PermanentError(WAIT_SIGNAL_NAME_INVALID(name), { code: 'INVALID_WAIT' });
  const timeoutMs = opts?.timeoutMs;
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new PermanentError(WAIT_TIMEOUT_MS_INVALID(timeoutMs), { code: 'INVALID_WAIT' });
  }
  return timeoutMs === undefined ? { kind: 'signal', name } : { kind: 'signal', name, timeoutMs };
}

function sleepWait(ms: unknown): Wait {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_SLEEP_MS) throw new PermanentError(SLEEP_MS_INVALID(ms), { code: 'INVALID_WAIT' });
  return { kind: 'sleep', ms };
}
