import { Inject, Injectable, Logger } from '@nestjs/common';
import { StepResultError } from '../errors/step.errors';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import type { ClaimRow, TransitionRow } from '../persistence/rows';
import { StepRepository } from '../persistence/step.repository';
import { TASKER_CONFIG } from '../tasker.constants';
import { serializeError } from './outcome';
import type { AttemptOutcome } from './step.executor';
import { StepClaimer } from './step.claimer';
import { TransitionPublisher } from './transition.publisher';
import { isDataError, isTransientDatabaseError } from './transient-errors';

interface PendingSuccess {
  claim: ClaimRow;
  results: string;
  done: () => void;
  failed: (e: unknown) => void;
}

/** At most this many successes are stored in one statement. */
const MAX_BATCH = 500;

/**
 * What follows an attempt: stores its outcome (the SQL moves dependents and settles the task in
 * the same transaction), then publishes the committed transitions. A database that is briefly
 * away is waited for, up to the lease: a result is not dropped because of a restart.
 *
 * Successes are stored in batches, the way Postgres groups commits: those that end in the same
 * turn of the event loop go together, and those that end while batches are being stored go in the
 * next one. A busy worker then spends one round-trip (and one transaction) on many steps; an idle
 * one adds a turn of the event loop. One batch at a time, so events go out in commit order.
 */
@Injectable()
export class OutcomeRecorder {
  private readonly logger = new Logger('Tasker');
  private readonly successes: PendingSuccess[] = [];
  private flushing = false;
  private flushScheduled = false;

  constructor(
    private readonly steps: StepRepository,
    private readonly claimer: StepClaimer,
    private readonly publisher: TransitionPublisher,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
  ) {}

  /** Returns the retry time of a failed attempt that will be retried, so the worker can wake then. */
  async record(claim: ClaimRow, outcome: AttemptOutcome): Promise<Date | null> {
    if (outcome.kind === 'abandoned') return null;
    if (outcome.kind === 'success') {
      await new Promise<void>((done, failed) => {
        this.successes.push({ claim, results: outcome.resultsJson, done, failed });
        this.scheduleFlush();
      });
      return null;
    }
    return this.recordOne(claim, outcome);
  }

  /**
   * Waits one turn of the event loop first: attempts that end together (their handlers resolved in
   * the same turn) go in one batch instead of the first going alone.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.successes.length === 0 || this.flushing) return;
    this.flushing = true;
    try {
      await this.storeSuccesses(this.successes.splice(0, MAX_BATCH));
    } finally {
      this.flushing = false;
      if (this.successes.length > 0) this.scheduleFlush();
    }
  }

  private async storeSuccesses(batch: PendingSuccess[]): Promise<void> {
    const items = batch.map((p) => ({ stepId: p.claim.step_id, token: p.claim.lease_token, results: p.results }));
    let rows: TransitionRow[] | null = null;
    try {
      try {
        // The worker's next claim rides along when its claim slot is free.
        rows = await this.claimer.completeWithClaim(items, batch.map((p) => p.claim.lease_token));
      } catch (e) {
        if (!isTransientDatabaseError(e)) throw e;
      }
      rows ??= await this.persist(() => this.publisher.change(this.steps.completeMany(items), (r) => r));
    } catch (e) {
      if (!isDataError(e)) {
        for (const p of batch) p.failed(e);
        return;
      }
      // One result Postgres refuses (e.g. a \u0000 in its JSON) fails the statement: store them one by one,
      // so only that step fails and the others complete.
      for (const p of batch) {
        await this.recordOne(p.claim, { kind: 'success', resultsJson: p.results }).then(() => p.done(), p.failed);
      }
      return;
    }
    const stored = new Set(rows.filter((r) => r.kind === 'step').map((r) => String(r.step_id)));
    for (const p of batch) if (!stored.has(String(p.claim.step_id))) this.warnDiscarded(p.claim);
    for (const p of batch) p.done();
  }

  /** Stores one outcome; returns when this process should look for the step again (a retry, a sleep's end). */
  private async recordOne(claim: ClaimRow, outcome: Exclude<AttemptOutcome, { kind: 'abandoned' }>): Promise<Date | null> {
    const { step_id: id, lease_token: token } = claim;
    const store = (statement: () => Promise<TransitionRow[]>) => this.persist(() => this.publisher.change(statement(), (r) => r));
    let rows: TransitionRow[];
    let wakeAt: Date | null = null;
    switch (outcome.kind) {
      case 'success':
        try {
          rows = await store(() => this.steps.complete(id, token, outcome.resultsJson));
        } catch (e) {
          if (!isDataError(e)) throw e;
          const error = serializeError(new StepResultError(`PostgreSQL refused it: ${(e as Error).message}`));
          rows = await store(() => this.steps.fail(id, token, error, null));
        }
        break;
      case 'failure':
        wakeAt = outcome.retryAt;
        rows = await store(() => this.steps.fail(id, token, outcome.error, outcome.retryAt));
        break;
      case 'released':
        rows = await store(() => this.steps.release(id, token, outcome.reason));
        break;
      case 'skipped':
        rows = await store(() => this.steps.skip(id, token, outcome.reason));
        break;
      case 'expand':
        rows = await store(() => this.steps.expand(id, token, outcome.itemsJson, outcome.maxParallel));
        break;
      case 'wait':
        if (outcome.wait.kind === 'sleep') wakeAt = new Date(outcome.wait.until as string);
        rows = await store(() => this.steps.wait(id, token, outcome.wait, outcome.child));
        break;
    }
    if (rows.length === 0) {
      this.warnDiscarded(claim);
      return null;
    }
    return wakeAt;
  }

  private warnDiscarded(claim: ClaimRow): void {
    this.logger.warn(
      `Outcome of step ${claim.step_name} (task ${claim.task_id}, attempt ${claim.attempt}) was discarded: ` +
        'its lease had expired and the step was claimed again.',
    );
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
