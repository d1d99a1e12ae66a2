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
import { retryTimeFor, serializeError } from './outcome';

/** Results larger than this are refused: a step should store references, not payloads. */
export const MAX_RESULT_BYTES = 8 * 1024 * 1024;

export type AttemptOutcome =
  | { kind: 'success'; resultsJson: string }
  | { kind: 'failure'; error: SerializedError; retryAt: Date | null }
  /** The worker is stopping: give the attempt back without using it up. */
  | { kind: 'released'; reason: string }
  /** The lease was lost: another worker owns the step now; nothing may be recorded. */
  | { kind: 'abandoned' };

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
  constructor(@Inject(TASKER_RETRY_DELAYS) private readonly retryDelays: RetryDelays) {}

  async run(
    claim: ClaimRow,
    handler: RegisteredHandler,
    controller: AbortController,
    heartbeat: () => Promise<void>,
  ): Promise<AttemptOutcome> {
    const def = handler.steps.find((s) => s.name === claim.step_name);
    const method = def && handler.instance?.[def.methodName];
    if (!def || typeof method !== 'function') {
      return this.failure(
        new PermanentError(`Handler ${handler.namespace}/${handler.name}@${handler.version} has no step "${claim.step_name}" any more.`),
        claim,
      );
    }
    // A task created by a process without this handler (the API-only admin service) had its
    // context checked by no DTO: its root steps check it here, before any work is done.
    if (handler.contextDto && def.dependsOn.length === 0) {
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
      signal: controller.signal,
      heartbeat,
    };

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
      const value = await Promise.race([Promise.resolve().then(() => method.call(handler.instance, ctx)), aborted]);
      return this.success(value, claim);
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
