import { Inject, Injectable, Logger } from '@nestjs/common';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import type { ClaimRow, TransitionRow } from '../persistence/rows';
import { Claimed, Completion, StepRepository } from '../persistence/step.repository';
import { InDoubtRecovery } from './in-doubt.recovery';
import { HandlerRegistry } from '../registry/handler.registry';
import { TASKER_CONFIG } from '../tasker.constants';
import { TransitionPublisher } from './transition.publisher';
import { WorkSignals } from './work.signals';

/** The worker that claimed attempts are handed to. */
export interface ClaimSink {
  readonly owner: string;
  /** False once the worker stops: what is claimed then is given back at once. */
  readonly accepting: boolean;
  /** Attempts this worker can take now. */
  freeSlots(): number;
  /** Lease tokens of the attempts this worker runs, or ran without being able to record them. */
  ownTokens(): string[];
  launch(claims: ClaimRow[]): void;
}

/**
 * Owns this process's claim slot: at most one claim is in flight, so two claims never share the
 * same free slots. A claim runs alone (poll) or rides with a batch of successes in the statement
 * that stores them (completeWithClaim: a chain's next step is claimed in the transaction that
 * completes the previous one). Polls only as a fallback to NOTIFY and local wake-ups.
 */
@Injectable()
export class StepClaimer {
  private readonly logger = new Logger('Tasker');
  private sink?: ClaimSink;
  private busy = false;
  private again = false;
  /** Until then, claims first give back the steps claimed for this worker that it does not run (a claim's lost answer). */
  private orphanCheckUntil = 0;
  /** The highest transition id seen before the first failed claim of the current orphan window (its rows are above). */
  private orphanAfterId = '0';
  /** Finished attempts whose freed slot a claim riding with their outcome already filled: no wake-up needed. */
  private readonly covered = new Set<string>();
  private wakeTimer?: NodeJS.Timeout;
  private wakeTime = Infinity;
  private lastError = 0;
  /** Claims made: one in ten keeps a place for steps that waited long (see fairShare). */
  private claims = 0;
  private readonly claimListeners: ((latencyMs: number, claimed: number, alone: boolean) => void)[] = [];

  constructor(
    private readonly steps: StepRepository,
    private readonly registry: HandlerRegistry,
    private readonly publisher: TransitionPublisher,
    private readonly inDoubt: InDoubtRecovery,
    signals: WorkSignals,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
  ) {
    signals.on({
      work: () => this.wake(),
      workAt: (at) => this.wakeAt(at),
      // Dependents made ready by this worker's own outcomes: it claims them after recording them.
      notified: (payload) => payload !== `ready:${this.sink?.owner}` && this.wake(),
    });
  }

  attach(sink: ClaimSink): void {
    this.sink = sink;
  }

  /**
   * Observes every claim (for metrics): its latency, how many steps it claimed, and whether it was a
   * statement of its own (false: it rode with a batch of successes).
   */
  onClaim(listener: (latencyMs: number, claimed: number, alone: boolean) => void): void {
    this.claimListeners.push(listener);
  }

  /** Looks for ready work now (coalesced: while a claim is in flight, one more follows it). */
  wake(): void {
    if (!this.sink?.accepting) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    void this.poll();
  }

  /** Looks for work at `at` as well as at the next poll. */
  wakeAt(at: Date): void {
    // A time read from the database is cut to the millisecond: waking at it would be a fraction early,
    // and the claim would not see the step yet.
    this.wakeAtMs(at.getTime() + 1);
  }

  private wakeAtMs(t: number): void {
    if (!this.sink?.accepting || t >= this.wakeTime) return;
    clearTimeout(this.wakeTimer);
    this.wakeTime = t;
    // (setTimeout fires at once, with a warning, beyond 2^31-1 ms: a later time is waited for in parts.)
    this.wakeTimer = setTimeout(() => {
      this.wakeTime = Infinity;
      this.wakeTimer = undefined;
      // A timer counts from the event loop's clock, which lags the wall clock by the turn it was set
      // in: it can fire before `t`, when a claim would not see the step yet. Wait for the rest.
      if (Date.now() < t) this.wakeAtMs(t);
      else this.wake();
    }, Math.min(2_147_483_647, Math.max(0, t - Date.now())));
  }

  /** An attempt of this worker ended and was recorded: its slot is free again. */
  attemptEnded(token: string): void {
    if (!this.covered.delete(token)) this.wake();
  }

  /** Resolves when no claim is in flight (at shutdown, so no connection is used after close). */
  async idle(): Promise<void> {
    clearTimeout(this.wakeTimer);
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
  }

  /**
   * Stores a batch of successes with this worker's next claim, when the claim slot is free; null when
   * it is not (the caller stores them alone). `attempts`: the batch's, whose places the claim may
   * fill. The outcomes' transitions are published before the claim's. Throws what the storing
   * statement threw (it may have committed: claims are then looked for).
   *
   * When a success can make a step ready (a parent's, a map instance's), the claim rides in the
   * statement that stores them, so it sees those steps (a chain hands off in one round-trip).
   * Otherwise (plain jobs, a workflow's last steps) the two run at once, on two connections: the
   * database works on both at once, with two backends (measured: +5–15 % plain jobs a second).
   */
  async completeWithClaim(items: Completion[], attempts: ClaimRow[]): Promise<TransitionRow[] | null> {
    const sink = this.sink;
    if (!sink?.accepting || this.busy || Date.now() < this.orphanCheckUntil) return null;
    const types = this.registry.typeIds();
    const limit = sink.freeSlots() + attempts.length;
    if (limit <= 0 || types.length === 0) return null;
    const finished = attempts.map((a) => a.lease_token);
    if (!attempts.some((a) => a.map_index !== null || this.registry.hasDependents(a.namespace, a.task_name, a.version, a.step_name))) {
      return this.storeBesideClaim(items, finished, limit, types, sink);
    }
    this.busy = true;
    let again = true;
    const afterId = this.publisher.highWater();
    try {
      const began = performance.now();
      const answer = await this.publisher.change(
        this.steps.completeAndClaim(items, {
          owner: sink.owner,
          types,
          limit,
          leaseMs: this.config.worker.leaseMs,
          fair: this.fairShare(limit),
          agingMs: this.config.worker.priorityAgingMs,
        }),
        (a) => a.outcomes,
      );
      this.observe(began, answer.claims.length, false);
      // Fewer than asked: nothing else was ready, the finished attempts need not wake the worker.
      again = answer.claims.length >= limit;
      if (!again) for (const t of finished) this.covered.add(t);
      await this.deliver(answer);
      return answer.outcomes;
    } catch (e) {
      this.claimFailed(afterId);
      throw e;
    } finally {
      this.releaseSlot(again);
    }
  }

  /** completeWithClaim's two statements at once: the outcomes stored, and a claim of its own. */
  private async storeBesideClaim(items: Completion[], finished: string[], limit: number, types: number[], sink: ClaimSink): Promise<TransitionRow[]> {
    this.busy = true;
    let again = true;
    const afterId = this.publisher.highWater();
    const began = performance.now();
    const stored = this.publisher.change(this.steps.completeMany(items), (rows) => rows);
    const claimed = this.steps.claim(sink.owner, types, limit, this.config.worker.leaseMs, this.fairShare(limit), this.config.worker.priorityAgingMs);
    const [outcomes, claim] = await Promise.allSettled([stored, claimed]);
    try {
      if (claim.status === 'fulfilled') {
        this.observe(began, claim.value.claims.length, true);
        again = claim.value.claims.length >= limit;
        if (!again) for (const t of finished) this.covered.add(t);
        // Its events wait for the outcomes' (deliver publishes after the changes in flight).
        await this.deliver(claim.value);
      } else {
        this.claimFailed(afterId);
        this.claimError(claim.reason);
      }
    } finally {
      this.releaseSlot(again);
    }
    if (outcomes.status === 'rejected') throw outcomes.reason;
    return outcomes.value;
  }

  private async poll(): Promise<void> {
    this.busy = true;
    let afterId = this.publisher.highWater();
    try {
      do {
        this.again = false;
        const sink = this.sink;
        if (!sink?.accepting) break;
        if (Date.now() < this.orphanCheckUntil) await this.releaseOrphans(sink);
        const free = sink.freeSlots();
        const types = this.registry.typeIds();
        if (free <= 0 || types.length === 0) break;
        const began = performance.now();
        afterId = this.publisher.highWater();
        const claimed = await this.steps.claim(sink.owner, types, free, this.config.worker.leaseMs, this.fairShare(free), this.config.worker.priorityAgingMs);
        this.observe(began, claimed.claims.length, true);
        await this.deliver(claimed);
        if (claimed.claims.length === free) this.again = true;
      } while (this.again);
    } catch (e) {
      // The claim may have committed although its answer never arrived (the connection was lost or
      // timed out after the request): those steps are in progress under this worker's lease, and no
      // one runs them. For a lease period, claims look for them first.
      this.claimFailed(afterId);
      this.claimError(e);
    } finally {
      this.busy = false;
    }
  }

  private claimError(e: unknown): void {
    if (Date.now() - this.lastError > 10_000) {
      this.lastError = Date.now();
      this.logger.error(`Could not claim steps (will keep trying): ${(e as Error).message}`);
    }
  }

  /** A claim (sent when the highest transition id seen was `afterId`) may have committed unheard. */
  private claimFailed(afterId: string): void {
    if (Date.now() >= this.orphanCheckUntil || BigInt(afterId) < BigInt(this.orphanAfterId)) this.orphanAfterId = afterId;
    this.orphanCheckUntil = Date.now() + this.config.worker.leaseMs;
  }

  private releaseSlot(again: boolean): void {
    this.busy = false;
    if (again || this.again) {
      this.again = false;
      this.wake();
    }
  }

  /**
   * How many of a claim's `limit` places go first to steps that waited at least
   * `worker.priorityAgingMs`, whatever their priority: one on every tenth claim, and a tenth of a
   * large claim. Priority decides the rest, so work of low priority waits at most about ten claims
   * once it has aged, however much higher-priority work keeps coming.
   */
  private fairShare(limit: number): number {
    this.claims++;
    return Math.min(limit, Math.floor(limit / 10) + (this.claims % 10 === 0 ? 1 : 0));
  }

  /** Publishes a claim's transitions, then hands its attempts to the worker (or back, when it stopped meanwhile). */
  private async deliver(claimed: Claimed): Promise<void> {
    if (claimed.wakeAt) this.wakeAt(claimed.wakeAt);
    if (claimed.claims.length === 0) return;
    await this.publisher.afterChanges(claimed.transitions);
    const sink = this.sink!;
    if (sink.accepting) {
      sink.launch(claimed.claims);
      return;
    }
    for (const c of claimed.claims) await this.release(c, 'worker shutting down');
  }

  /**
   * Gives back, unused, the attempts claimed for this worker whose claim's answer it never received
   * (otherwise they would wait for their lease to lapse, and count as failed attempts). Runs in the
   * claim slot, so no claim of this process is between its commit and its launch meanwhile.
   */
  private async releaseOrphans(sink: ClaimSink): Promise<void> {
    const orphans = await this.steps.orphans(sink.owner, sink.ownTokens());
    // The claim committed: its events (the steps' and tasks' starts, and the outcomes that rode with
    // it) go out now, before the steps are given back and could be started anew.
    await this.inDoubt.recoverNow(
      orphans.map((o) => ({ stepId: String(o.step_id), taskId: String(o.task_id), afterId: this.orphanAfterId, claimed: true })),
    );
    for (const o of orphans) {
      this.logger.warn(`Step ${o.step_name} (task ${o.task_id}) was claimed for this worker, but the claim's answer was lost; giving it back.`);
      await this.release(o, "claim lost: its answer never reached the worker");
    }
  }

  private release(c: Pick<ClaimRow, 'step_id' | 'lease_token'>, reason: string): Promise<TransitionRow[]> {
    return this.publisher.change(this.steps.release(c.step_id, c.lease_token, reason), (rows) => rows);
  }

  private observe(began: number, claimed: number, alone: boolean): void {
    for (const l of this.claimListeners) l(performance.now() - began, claimed, alone);
  }
}
