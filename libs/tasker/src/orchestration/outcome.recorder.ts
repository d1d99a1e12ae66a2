import { Inject, Injectable, Logger } from '@nestjs/common';
import { StepResultError } from '../errors/step.errors';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import type { ClaimRow, TransitionRow } from '../persistence/rows';
import { InDoubtMark, StepRepository } from '../persistence/step.repository';
import { TASKER_CONFIG } from '../tasker.constants';
import { serializeError } from './outcome';
import type { AttemptOutcome } from './step.executor';
import { InDoubtRecovery } from './in-doubt.recovery';
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
    private readonly inDoubt: InDoubtRecovery,
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
    const items = batch.map((p) => ({ claim: p.claim, results: p.results }));
    // Every transition of the statements below is above it: where to look if an answer is lost.
    const afterId = this.publisher.highWater();
    const lost = { answer: false };
    let rows: TransitionRow[] | null = null;
    try {
      try {
        // The worker's next claim rides along when its claim slot is free.
        rows = await this.claimer.completeWithClaim(items, batch.map((p) => p.claim));
      } catch (e) {
        if (!isTransientDatabaseError(e)) throw e;
        lost.answer = true;
      }
      rows ??= await this.persist(() => this.publisher.change(this.steps.completeMany(items), (r) => r), lost);
    } catch (e) {
      if (!isDataError(e)) {
        if (lost.answer || isTransientDatabaseError(e)) this.inDoubt.add(batch.map((p) => endMark(p.claim, afterId)), true);
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
    this.settleMissing(batch.filter((p) => !stored.has(String(p.claim.step_id))).map((p) => p.claim), lost.answer, afterId);
    for (const p of batch) p.done();
  }

  /**
   * Outcomes the final answer does not hold. After a lost answer, an earlier try may have stored
   * them (a retry then finds the attempt ended): their transitions are read back and published.
   * Otherwise the lease had lapsed and another attempt took over: the outcome was discarded.
   */
  private settleMissing(claims: ClaimRow[], lostAnswer: boolean, afterId: string): void {
    if (claims.length === 0) return;
    if (lostAnswer) this.inDoubt.add(claims.map((c) => endMark(c, afterId)));
    else for (const c of claims) this.warnDiscarded(c);
  }

  /** Stores one outcome; returns when this process should look for the step again (a retry, a sleep's end). */
  private async recordOne(claim: ClaimRow, outcome: Exclude<AttemptOutcome, { kind: 'abandoned' }>): Promise<Date | null> {
    const { step_id: id, lease_token: token } = claim;
    const afterId = this.publisher.highWater();
    const lost = { answer: false };
    const store = (statement: () => Promise<TransitionRow[]>) => this.persist(() => this.publisher.change(statement(), (r) => r), lost);
    let rows: TransitionRow[];
    let wakeAt: Date | null = null;
    try {
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
    } catch (e) {
      if (lost.answer || isTransientDatabaseError(e)) this.inDoubt.add([endMark(claim, afterId)], true);
      throw e;
    }
    if (rows.length === 0) {
      this.settleMissing([claim], lost.answer, afterId);
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

  /** `lost.answer` is set when a try failed on a lost connection: it may have committed all the same. */
  private async persist<T>(fn: () => Promise<T>, lost: { answer: boolean }): Promise<T> {
    const deadline = Date.now() + this.config.worker.leaseMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
      try {
        return await fn();
      } catch (e) {
        if (!isTransientDatabaseError(e) || Date.now() + delay > deadline) throw e;
        lost.answer = true;
        this.logger.warn(`Database unavailable while storing an outcome (${(e as Error).message}); retrying in ${delay} ms.`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

/** Where to find again the outcome of `claim` if its statement's answer was lost. */
function endMark(claim: ClaimRow, afterId: string): InDoubtMark {
  return { stepId: String(claim.step_id), taskId: String(claim.task_id), attempt: claim.attempt, afterId, claimed: false };
}
