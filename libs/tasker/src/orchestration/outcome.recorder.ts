import { Inject, Injectable, Logger } from '@nestjs/common';
import { StepResultError } from '../errors/step.errors';
import { TaskerEventBus } from '../events/tasker-event-bus';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import type { ClaimRow, TransitionRow } from '../persistence/rows';
import { StepRepository } from '../persistence/step.repository';
import { TASKER_CONFIG } from '../tasker.constants';
import { serializeError } from './outcome';
import type { AttemptOutcome } from './step.executor';
import { isDataError, isTransientDatabaseError } from './transient-errors';

/**
 * What follows an attempt: stores its outcome (the SQL moves dependents and settles the task in
 * the same transaction), then publishes the committed transitions. A database that is briefly
 * away is waited for, up to the lease: a result is not dropped because of a restart.
 */
@Injectable()
export class OutcomeRecorder {
  private readonly logger = new Logger('Tasker');

  constructor(
    private readonly steps: StepRepository,
    private readonly bus: TaskerEventBus,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
  ) {}

  /** Returns the retry time of a failed attempt that will be retried, so the worker can wake then. */
  async record(claim: ClaimRow, outcome: AttemptOutcome): Promise<Date | null> {
    if (outcome.kind === 'abandoned') return null;
    let rows: TransitionRow[];
    let retryAt: Date | null = null;
    if (outcome.kind === 'success') {
      try {
        rows = await this.persist(() => this.steps.complete(claim.step_id, claim.lease_token, outcome.resultsJson));
      } catch (e) {
        if (!isDataError(e)) throw e;
        const error = serializeError(new StepResultError(`PostgreSQL refused it: ${(e as Error).message}`));
        rows = await this.persist(() => this.steps.fail(claim.step_id, claim.lease_token, error, null));
      }
    } else if (outcome.kind === 'failure') {
      retryAt = outcome.retryAt;
      rows = await this.persist(() => this.steps.fail(claim.step_id, claim.lease_token, outcome.error, outcome.retryAt));
    } else {
      rows = await this.persist(() => this.steps.release(claim.step_id, claim.lease_token, outcome.reason));
    }
    if (rows.length === 0) {
      this.logger.warn(
        `Outcome of step ${claim.step_name} (task ${claim.task_id}, attempt ${claim.attempt}) was discarded: ` +
          'its lease had expired and the step was claimed again.',
      );
      return null;
    }
    this.bus.publishTransitions(rows);
    return retryAt;
  }

  private async persist<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.config.worker.leaseMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        return await fn();
      } catch (e) {
        if (!isTransientDatabaseError(e) || Date.now() + delay > deadline) throw e;
        this.logger.warn(`Database unavailable while storing an outcome (${(e as Error).message}); retrying in ${delay} ms.`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
