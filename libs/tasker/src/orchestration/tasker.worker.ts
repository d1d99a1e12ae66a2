import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { TaskerEventBus } from '../events/tasker-event-bus';
import { eventsForClaims } from '../events/transition-events';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import type { ClaimRow } from '../persistence/rows';
import { MonitoringRepository } from '../persistence/monitoring.repository';
import { StepRepository } from '../persistence/step.repository';
import { TaskerTracing } from '../tracing/tasker-tracing';
import { HandlerRegistry } from '../registry/handler.registry';
import { TASKER_CONFIG } from '../tasker.constants';
import { serializeError } from './outcome';
import { ClaimAlong, OutcomeRecorder } from './outcome.recorder';
import { AttemptAbort, AttemptOutcome, StepExecutor } from './step.executor';

interface RunningAttempt {
  claim: ClaimRow;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * The worker of this process: claims ready steps of the task types it has handlers for, runs up
 * to `concurrency` at once, renews their leases, and goes on at once when a step finishes (the
 * step's dependents are claimed without waiting for the next poll). Polls only as a fallback to
 * NOTIFY and local wake-ups.
 */
@Injectable()
export class TaskerWorker implements ClaimAlong {
  readonly owner = `worker:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger('Tasker');
  private readonly running = new Map<string, RunningAttempt>();
  private started = false;
  private stopping = false;
  private polling = false;
  private pollAgain = false;
  private pollTimer?: NodeJS.Timeout;
  private renewTimer?: NodeJS.Timeout;
  private wakeTimer?: NodeJS.Timeout;
  private wakeTime = Infinity;
  private lastPollError = 0;
  /** Until then, each poll first gives back the steps claimed for this worker that it is not running (releaseOrphans). */
  private orphanCheckUntil = 0;
  /**
   * Attempts this worker ran but could not record (the database stayed away longer than the lease),
   * by lease token, with when: they did run, so they are left to lapse (a failed attempt), never
   * given back unused like a claim that was never received.
   */
  private readonly unrecorded = new Map<string, number>();
  private beat?: Promise<void>;
  /** Changes of this process whose events are not published yet (see track). */
  private readonly publishing = new Set<Promise<unknown>>();
  /** Tasks cancelled recently, by id, with when this process heard of it. */
  private readonly cancelledTasks = new Map<string, number>();
  private readonly claimListeners: ((latencyMs: number, claimed: number) => void)[] = [];
  /** Each running attempt's outcome being recorded, by lease token (see end()). */
  private readonly recording = new Map<string, Promise<unknown>>();
  /** Finished attempts whose freed slot a claim riding with their outcome already used: no wake-up needed. */
  private readonly covered = new Set<string>();
  private claimAlong?: { began: number; limit: number };

  constructor(
    private readonly steps: StepRepository,
    private readonly registry: HandlerRegistry,
    private readonly executor: StepExecutor,
    private readonly recorder: OutcomeRecorder,
    private readonly bus: TaskerEventBus,
    private readonly monitoring: MonitoringRepository,
    private readonly tracing: TaskerTracing,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
  ) {
    recorder.attach(this);
  }

  /** Observes every claim query (for metrics): its latency and how many steps it claimed. */
  onClaim(listener: (latencyMs: number, claimed: number) => void): void {
    this.claimListeners.push(listener);
  }

  get isRunning(): boolean {
    return this.started && !this.stopping;
  }

  /** Steps running in this process now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Starts claiming; resolves once the worker is recorded as alive. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const w = this.config.worker;
    this.pollTimer = setInterval(() => this.wake(), w.pollIntervalMs);
    this.renewTimer = setInterval(() => void this.renewLeases(), Math.max(50, Math.floor(w.leaseMs / 3)));
    this.wake();
    await this.heartbeat();
  }

  /**
   * Set by the WakeListener while its LISTEN connection is up: the NOTIFY of every new task then
   * reaches this worker too, and wakeForNewTasks leaves the wake-up to it.
   */
  notified = false;

  /**
   * Tasks were just created in this process. Woken by their NOTIFY when it comes (a wake-up here
   * as well made the NOTIFY a second claim, which then held the claim slot when the first step
   * finished: its dependents waited for another round-trip, about 1 ms more per new task), at once
   * otherwise.
   */
  wakeForNewTasks(): void {
    if (!this.notified) this.wake();
  }

  /** Looks for ready work now (coalesced: at most one claim query runs at a time). */
  wake(): void {
    if (!this.isRunning) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    void this.poll();
  }

  /** Looks for work at `at` (a retry or delayed start known to this process), not only at the next poll. */
  wakeAt(at: Date): void {
    const t = at.getTime();
    if (!this.isRunning || t >= this.wakeTime) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTime = t;
    // setTimeout fires at once (with a warning) beyond 2^31-1 ms; waking early only re-polls.
    this.wakeTimer = setTimeout(() => {
      this.wakeTime = Infinity;
      this.wakeTimer = undefined;
      this.wake();
    }, Math.min(2_147_483_647, Math.max(0, t - Date.now())));
  }

  /**
   * Registers a change (an outcome, a creation, an operator action) until its events are published.
   * A claim publishes its events only after the changes in flight when it returned: a claim can see
   * a change that committed before that change's own events went out, and this process must not
   * emit a dependent's step.started before its parent's step.completed (or task.created).
   */
  track<T>(p: Promise<T>): Promise<T> {
    this.publishing.add(p);
    const done = () => this.publishing.delete(p);
    p.then(done, done);
    return p;
  }

  /** Aborts the signals of this task's running attempts (the task was cancelled). */
  abortTask(taskId: string): void {
    // Also remembered for a while: a claim that read the task just before the cancel committed
    // may launch its step after this call; it must not start it either. Cancelled is terminal.
    const now = Date.now();
    this.cancelledTasks.set(taskId, now);
    for (const [id, at] of this.cancelledTasks) if (now - at > 5 * 60_000) this.cancelledTasks.delete(id);
    for (const r of this.running.values()) {
      if (String(r.claim.task_id) === taskId && !r.controller.signal.aborted) {
        r.controller.abort(new AttemptAbort('cancelled', `Task ${taskId} was cancelled.`));
      }
    }
  }

  /**
   * Stops claiming, lets running steps finish for up to `shutdownTimeoutMs`, then aborts the rest
   * and gives their attempts back so another worker runs them at once.
   */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.wakeTimer);
    const all = () => Promise.allSettled([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, this.config.worker.shutdownTimeoutMs)))]);
    clearTimeout(timer);
    for (const r of this.running.values()) {
      r.controller.abort(new AttemptAbort('shutdown', `Worker ${this.owner} is shutting down.`));
    }
    await all();
    clearInterval(this.renewTimer);
    await this.beat; // a heartbeat landing after the removal would bring this worker back
    await this.monitoring.removeWorker(this.owner).catch(() => undefined);
    // A claim query may still be in flight; let it settle so no connection is used after close.
    while (this.polling) await new Promise((r) => setTimeout(r, 5));
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      do {
        this.pollAgain = false;
        if (Date.now() < this.orphanCheckUntil && !this.stopping) await this.releaseOrphans();
        const free = this.config.worker.concurrency - this.running.size;
        const types = this.registry.typeIds();
        if (free <= 0 || types.length === 0 || this.stopping) break;
        const began = performance.now();
        const claims = await this.steps.claim(this.owner, types, free, this.config.worker.leaseMs);
        for (const l of this.claimListeners) l(performance.now() - began, claims.length);
        if (claims.length > 0 && this.publishing.size > 0) await Promise.allSettled([...this.publishing]);
        if (this.stopping) {
          // Claimed while shutting down: give them straight back.
          for (const c of claims) await this.recorder.record(c, { kind: 'released', reason: 'worker shutting down' });
          break;
        }
        for (const e of eventsForClaims(claims, this.owner)) this.bus.publish(e);
        for (const c of claims) this.launch(c);
        if (claims.length === free) this.pollAgain = true;
      } while (this.pollAgain);
    } catch (e) {
      // The claim may have committed although its answer never arrived (the connection was lost or
      // timed out after the request): those steps are in progress under this worker's lease, and no
      // one runs them. For a lease period, polls look for them first.
      this.orphanCheckUntil = Date.now() + this.config.worker.leaseMs;
      if (Date.now() - this.lastPollError > 10_000) {
        this.lastPollError = Date.now();
        this.logger.error(`Could not claim steps (will keep trying): ${(e as Error).message}`);
      }
    } finally {
      this.polling = false;
    }
  }

  /**
   * Gives back, unused, the attempts claimed for this worker whose claim it never received. They
   * waited for their lease to lapse before, and then counted as failed attempts: a step that may run
   * once ended in error without having run (found by test/lost-claim.e2e-spec.ts). Runs inside
   * poll(), so no claim of this process is between its commit and its launch meanwhile.
   */
  private async releaseOrphans(): Promise<void> {
    const now = Date.now();
    for (const [token, at] of this.unrecorded) if (now - at > 2 * this.config.worker.leaseMs) this.unrecorded.delete(token);
    const orphans = await this.steps.orphans(this.owner, [...this.running.keys(), ...this.unrecorded.keys()]);
    for (const o of orphans) {
      this.logger.warn(`Step ${o.step_name} (task ${o.task_id}) was claimed for this worker, but the claim's answer was lost; giving it back.`);
      await this.track(this.recorder.record(o as ClaimRow, { kind: 'released', reason: 'claim lost: its answer never reached the worker' }));
    }
  }

  private launch(claim: ClaimRow): void {
    const controller = new AbortController();
    const handler = this.registry.get(claim.namespace, claim.task_name, claim.version);
    const heartbeat = async () => {
      const kept = await this.steps.renew([claim.lease_token], this.config.worker.leaseMs);
      if (!kept.has(claim.lease_token) && !controller.signal.aborted) {
        controller.abort(new AttemptAbort('lease_lost', 'This attempt lost its lease; another worker may run the step.'));
      }
    };
    const entry: RunningAttempt = { claim, controller, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        // Claimed while its task was being cancelled (the cancel skipped the row the claim held):
        // the step does not start; recording the attempt settles it as cancelled.
        const cancelled = claim.task_state === 'cancelled' || this.cancelledTasks.has(String(claim.task_id));
        const outcome: AttemptOutcome = cancelled
          ? { kind: 'failure', error: serializeError(new AttemptAbort('cancelled', `Task ${claim.task_id} was cancelled.`)), retryAt: null }
          : handler
            ? await this.tracing.step(claim, () => this.executor.run(claim, handler, controller, heartbeat), outcomeLabel)
            : { kind: 'released', reason: 'no handler in this process' };
        const recording = this.track(this.recorder.record(claim, outcome));
        this.recording.set(claim.lease_token, recording);
        const retryAt = await recording;
        if (retryAt) this.wakeAt(retryAt);
      } catch (e) {
        this.unrecorded.set(claim.lease_token, Date.now());
        this.logger.error(`Could not record the outcome of step ${claim.step_name} (task ${claim.task_id}): ${(e as Error).message}`);
      } finally {
        this.recording.delete(claim.lease_token);
        this.running.delete(claim.lease_token);
        if (!this.covered.delete(claim.lease_token)) this.wake();
      }
    })();
    this.running.set(claim.lease_token, entry);
  }

  /**
   * A batch of successes is about to be stored: claim this worker's next steps in the same
   * statement (in-process continuation: a chain's next step is claimed in the transaction that
   * completes the previous one, one round-trip per step instead of two). Takes the claim slot like
   * poll() does, so the two never claim the same free slots.
   */
  begin(finished: ClaimRow[]): { owner: string; types: number[]; limit: number; leaseMs: number } | null {
    if (!this.isRunning || this.polling || Date.now() < this.orphanCheckUntil) return null;
    const types = this.registry.typeIds();
    const limit = this.config.worker.concurrency - this.running.size + finished.length;
    if (limit <= 0 || types.length === 0) return null;
    this.polling = true;
    this.claimAlong = { began: performance.now(), limit };
    return { owner: this.owner, types, limit, leaseMs: this.config.worker.leaseMs };
  }

  /** The claims that rode with a batch of successes (null: no answer; they may exist unseen). */
  end(claims: ClaimRow[] | null, finished: ClaimRow[]): void {
    const asked = this.claimAlong!;
    this.claimAlong = undefined;
    if (claims === null) {
      this.orphanCheckUntil = Date.now() + this.config.worker.leaseMs;
      this.releaseClaimSlot(true);
      return;
    }
    for (const l of this.claimListeners) l(performance.now() - asked.began, claims.length);
    // Fewer than asked: nothing else was ready, the finished attempts need not wake the worker.
    const more = claims.length >= asked.limit;
    if (!more) for (const f of finished) this.covered.add(f.lease_token);
    const go = () => {
      if (this.stopping) {
        const released = claims.map((c) => this.track(this.recorder.record(c, { kind: 'released', reason: 'worker shutting down' })));
        void Promise.allSettled(released).then(() => this.releaseClaimSlot(false));
        return;
      }
      for (const e of eventsForClaims(claims, this.owner)) this.bus.publish(e);
      for (const c of claims) this.launch(c);
      this.releaseClaimSlot(more);
    };
    // As in poll(): the claims' events wait for the changes still being published (a task.created),
    // except this batch's own outcomes, which are published already and settle after this call.
    const own = new Set(finished.map((f) => this.recording.get(f.lease_token)));
    const others = [...this.publishing].filter((p) => !own.has(p));
    if (claims.length === 0 || others.length === 0) go();
    else void Promise.allSettled(others).then(go);
  }

  private releaseClaimSlot(again: boolean): void {
    this.polling = false;
    if (again || this.pollAgain) {
      this.pollAgain = false;
      this.wake();
    }
  }

  /** Tells the database this worker is alive (the workers table), so operators and metrics see it. */
  private heartbeat(): Promise<void> {
    const types = this.registry.all().map((h) => `${h.namespace}/${h.name}@${h.version}`);
    this.beat = this.monitoring
      .heartbeat(this.owner, this.config.worker.concurrency, this.running.size, types)
      .catch((e) => this.logger.warn(`Could not record worker heartbeat: ${(e as Error).message}`));
    return this.beat;
  }

  private async renewLeases(): Promise<void> {
    if (!this.stopping) void this.heartbeat();
    const tokens = [...this.running.keys()];
    if (tokens.length === 0) return;
    try {
      const kept = await this.steps.renew(tokens, this.config.worker.leaseMs);
      for (const t of tokens) {
        const r = this.running.get(t);
        if (r && !kept.has(t) && !r.controller.signal.aborted) {
          r.controller.abort(new AttemptAbort('lease_lost', 'This attempt lost its lease; another worker may run the step.'));
        }
      }
    } catch (e) {
      this.logger.warn(`Could not renew leases: ${(e as Error).message}`);
    }
  }
}

/** How an attempt ended, for its span. */
function outcomeLabel(o: AttemptOutcome): string {
  if (o.kind === 'success') return 'completed';
  if (o.kind === 'failure') return o.retryAt ? 'retry' : 'failed';
  return o.kind;
}
