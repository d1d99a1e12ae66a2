import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import type { ClaimRow } from '../persistence/rows';
import { MonitoringRepository } from '../persistence/monitoring.repository';
import { StepRepository } from '../persistence/step.repository';
import { TaskerTracing } from '../tracing/tasker-tracing';
import { HandlerRegistry } from '../registry/handler.registry';
import { TASKER_CONFIG } from '../tasker.constants';
import { EVENT_LOOP_STALLED } from '../tasker.messages';
import { EventLoopMonitor, stallThresholdMs } from './event-loop.monitor';
import { serializeError } from './outcome';
import { OutageLog } from './outage.log';
import { InDoubtRecovery } from './in-doubt.recovery';
import { OutcomeRecorder } from './outcome.recorder';
import { TransitionPublisher } from './transition.publisher';
import { AttemptAbort, AttemptOutcome, StepExecutor } from './step.executor';
import { ClaimSink, StepClaimer } from './step.claimer';
import { WorkSignals } from './work.signals';

interface RunningAttempt {
  claim: ClaimRow;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * The worker of this process: runs the attempts the claimer hands it, up to `concurrency` at once
 * (with `prefetch`, more are claimed and held until a running one finishes), keeps their leases
 * alive, aborts them on cancellation, timeout and shutdown, and has their outcomes recorded. Only
 * task types this process has handlers for are ever claimed for it.
 */
@Injectable()
export class TaskerWorker implements ClaimSink {
  readonly owner = `worker:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger('Tasker');
  /** Attempts launched and not yet recorded, by lease token. */
  private readonly running = new Map<string, RunningAttempt>();
  /** Attempts claimed beyond `concurrency` (worker.prefetch), in claim order, waiting for a body to finish. */
  private readonly held: ClaimRow[] = [];
  /** Bodies running now: the attempts of `running` whose outcome is not known yet. */
  private executing = 0;
  private started = false;
  private stopping = false;
  private renewTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  /**
   * Attempts this worker ran but could not record (the database stayed away longer than the lease),
   * by lease token, with when: they did run, so they are left to lapse (a failed attempt), never
   * given back unused like a claim that was never received.
   */
  private readonly unrecorded = new Map<string, number>();
  private beat?: Promise<void>;
  /** Tasks cancelled recently, by id, with when this process heard of it. */
  private readonly cancelledTasks = new Map<string, number>();
  /** Attempts that ended lately, with when (performance.now()): a stall noticed just after them may be theirs. */
  private recentlyEnded: { claim: ClaimRow; at: number }[] = [];
  private readonly loopMonitor: EventLoopMonitor;
  private readonly renewOutage = new OutageLog(this.logger, 'Lease renewal');
  private readonly heartbeatOutage = new OutageLog(this.logger, 'Worker heartbeat');

  constructor(
    private readonly steps: StepRepository,
    private readonly registry: HandlerRegistry,
    private readonly executor: StepExecutor,
    private readonly recorder: OutcomeRecorder,
    private readonly claimer: StepClaimer,
    private readonly monitoring: MonitoringRepository,
    private readonly tracing: TaskerTracing,
    private readonly inDoubt: InDoubtRecovery,
    private readonly publisher: TransitionPublisher,
    signals: WorkSignals,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
  ) {
    claimer.attach(this);
    inDoubt.attach(this.owner);
    signals.on({ cancelled: (taskId) => this.abortTask(taskId) });
    const threshold = stallThresholdMs(config.worker.leaseMs);
    this.loopMonitor = new EventLoopMonitor(Math.min(100, threshold), threshold, (ms, since) => this.stalled(ms, since));
  }

  get accepting(): boolean {
    return this.started && !this.stopping;
  }

  /** Steps claimed by this process and not yet recorded: running, being recorded, or held (prefetch). */
  get inFlight(): number {
    return this.running.size + this.held.length;
  }

  freeSlots(): number {
    const w = this.config.worker;
    return w.concurrency + w.prefetch - this.running.size - this.held.length;
  }

  ownTokens(): string[] {
    const now = Date.now();
    for (const [token, at] of this.unrecorded) if (now - at > 2 * this.config.worker.leaseMs) this.unrecorded.delete(token);
    return [...this.running.keys(), ...this.held.map((c) => c.lease_token), ...this.unrecorded.keys()];
  }

  /** Starts claiming; resolves once the worker is recorded as alive. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // Where to look for the transitions of this worker's first statements, should their answers be lost.
    await this.steps.transitionHighWater().then(
      (id) => this.publisher.highWater(id),
      () => undefined,
    );
    const w = this.config.worker;
    this.pollTimer = setInterval(() => this.claimer.wake(), w.pollIntervalMs);
    this.renewTimer = setInterval(() => void this.renewLeases(), Math.max(50, Math.floor(w.leaseMs / 3)));
    this.claimer.wake();
    this.loopMonitor.start();
    await this.heartbeat();
  }

  /**
   * Stops claiming, lets running steps finish for up to `shutdownTimeoutMs`, then aborts the rest
   * and gives their attempts back so another worker runs them at once.
   */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    clearInterval(this.pollTimer);
    this.loopMonitor.stop();
    // Held attempts never started: given back at once, another worker runs them now.
    await Promise.allSettled(this.held.splice(0).map((c) => this.giveBack(c, `Worker ${this.owner} is shutting down.`)));
    const all = () => Promise.allSettled([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise((r) => (timer = setTimeout(r, this.config.worker.shutdownTimeoutMs)))]);
    clearTimeout(timer);
    for (const r of this.running.values()) {
      r.controller.abort(new AttemptAbort('shutdown', `Worker ${this.owner} is shutting down.`));
    }
    await all();
    await this.inDoubt.stop();
    clearInterval(this.renewTimer);
    await this.beat; // a heartbeat landing after the removal would bring this worker back
    await this.monitoring.removeWorker(this.owner).catch(() => undefined);
    await this.claimer.idle();
  }

  launch(claims: ClaimRow[]): void {
    for (const c of claims) {
      if (this.executing < this.config.worker.concurrency) this.launchOne(c);
      else this.held.push(c);
    }
  }

  /** A body finished (its outcome is being recorded): a held attempt takes its place. */
  private bodyEnded(): void {
    this.executing--;
    while (!this.stopping && this.held.length > 0 && this.executing < this.config.worker.concurrency) this.launchOne(this.held.shift()!);
  }

  /** Gives back an attempt this worker claimed and never started (its attempt is not used up). */
  private async giveBack(claim: ClaimRow, reason: string): Promise<void> {
    try {
      await this.recorder.record(claim, { kind: 'released', reason });
    } catch (e) {
      // Its lease lapses instead, and the sweep makes it ready again.
      this.logger.error(`Could not give back step ${claim.step_name} (task ${claim.task_id}): ${(e as Error).message}`);
    }
  }

  /** Aborts the signals of this task's running attempts (the task was cancelled). */
  private abortTask(taskId: string): void {
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
    // Held ones are settled at once: launched now, they see the cancel and run no body.
    for (let i = this.held.length - 1; i >= 0; i--) {
      if (String(this.held[i].task_id) === taskId) this.launchOne(this.held.splice(i, 1)[0]);
    }
  }

  private launchOne(claim: ClaimRow): void {
    const controller = new AbortController();
    const handler = this.registry.get(claim.namespace, claim.task_name, claim.version);
    const heartbeat = async () => {
      const kept = await this.steps.renew([claim.lease_token], this.config.worker.leaseMs);
      if (!kept.has(claim.lease_token) && !controller.signal.aborted) {
        controller.abort(new AttemptAbort('lease_lost', 'This attempt lost its lease; another worker may run the step.'));
      }
    };
    const entry: RunningAttempt = { claim, controller, done: Promise.resolve() };
    this.executing++;
    entry.done = (async () => {
      try {
        let outcome: AttemptOutcome;
        try {
          // Claimed while its task was being cancelled (the cancel skipped the row the claim held):
          // the step does not start; recording the attempt settles it as cancelled.
          const cancelled = claim.task_state === 'cancelled' || this.cancelledTasks.has(String(claim.task_id));
          outcome = cancelled
            ? { kind: 'failure', error: serializeError(new AttemptAbort('cancelled', `Task ${claim.task_id} was cancelled.`)), retryAt: null }
            : handler
              ? await this.tracing.step(claim, () => this.executor.run(claim, handler, controller, heartbeat), outcomeLabel)
              : { kind: 'released', reason: 'no handler in this process' };
        } finally {
          this.bodyEnded();
        }
        const retryAt = await this.recorder.record(claim, outcome);
        if (retryAt) this.claimer.wakeAt(retryAt);
      } catch (e) {
        this.unrecorded.set(claim.lease_token, Date.now());
        this.logger.error(`Could not record the outcome of step ${claim.step_name} (task ${claim.task_id}): ${(e as Error).message}`);
      } finally {
        this.running.delete(claim.lease_token);
        const since = this.loopMonitor.lastTick;
        // (Most attempts end in the same turn as others: the list is copied only when it holds stale ones.)
        if (this.recentlyEnded.length > 0 && this.recentlyEnded[0].at < since) this.recentlyEnded = this.recentlyEnded.filter((e) => e.at >= since);
        this.recentlyEnded.push({ claim, at: performance.now() });
        this.claimer.attemptEnded(claim.lease_token);
      }
    })();
    this.running.set(claim.lease_token, entry);
  }

  /**
   * The event loop was blocked for `ms` ms: nothing of this process ran meanwhile, lease renewals
   * included. Names the attempts that were running then (still running, or ended since `since`):
   * one of them blocked it, most likely with CPU-bound work.
   */
  private stalled(ms: number, since: number): void {
    this.recentlyEnded = this.recentlyEnded.filter((e) => e.at >= since);
    const claims = [...this.running.values()].map((r) => r.claim).concat(this.recentlyEnded.map((e) => e.claim));
    const steps = [...new Set(claims.map((c) => `${c.namespace}/${c.task_name}@${c.version} step ${c.step_name} (task ${c.task_id}, attempt ${c.attempt})`))];
    this.logger.warn(EVENT_LOOP_STALLED(ms, this.config.worker.leaseMs, steps));
  }

  /** Tells the database this worker is alive (the workers table), so operators and metrics see it. */
  private heartbeat(): Promise<void> {
    const types = this.registry.all().map((h) => `${h.namespace}/${h.name}@${h.version}`);
    this.beat = this.monitoring
      .heartbeat(this.owner, this.config.worker.concurrency + this.config.worker.prefetch, this.inFlight, types)
      .then(
        () => this.heartbeatOutage.succeeded(),
        (e) => this.heartbeatOutage.failed(e),
      );
    return this.beat;
  }

  private async renewLeases(): Promise<void> {
    if (!this.stopping) void this.heartbeat();
    const tokens = [...this.running.keys(), ...this.held.map((c) => c.lease_token)];
    if (tokens.length === 0) return;
    try {
      const kept = await this.steps.renew(tokens, this.config.worker.leaseMs);
      this.renewOutage.succeeded();
      for (const t of tokens) {
        const r = this.running.get(t);
        if (r && !kept.has(t) && !r.controller.signal.aborted) {
          r.controller.abort(new AttemptAbort('lease_lost', 'This attempt lost its lease; another worker may run the step.'));
        }
      }
      // A held attempt whose lease was lost is another worker's now: it never starts here. (Only
      // those asked about: a claim that arrived during the renewal was not.)
      const asked = new Set(tokens);
      const lost = this.held.filter((c) => asked.has(c.lease_token) && !kept.has(c.lease_token));
      if (lost.length > 0) {
        for (const c of lost) this.held.splice(this.held.indexOf(c), 1);
        this.claimer.wake();
      }
    } catch (e) {
      this.renewOutage.failed(e);
    }
  }
}

/** How an attempt ended, for its span. */
function outcomeLabel(o: AttemptOutcome): string {
  if (o.kind === 'success') return 'completed';
  if (o.kind === 'failure') return o.retryAt ? 'retry' : 'failed';
  return o.kind;
}
