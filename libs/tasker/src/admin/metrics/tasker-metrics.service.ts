import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TaskerEvents, TaskerEventPayload } from '../../events/tasker-events';
import { TaskerInternals } from '../../tasker.internals';
import { TaskerService } from '../../tasker.service';

/**
 * Prometheus metrics. Counts by state and live workers are read from Postgres at each scrape (the
 * whole fleet); attempts, retries, failures, durations and claim latency are this process's own
 * (scrape every worker process for the fleet's). Its own registry: nothing leaks into the app's.
 */
@Injectable()
export class TaskerMetrics implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  private readonly tasks = new Gauge({ name: 'tasker_tasks', help: 'Tasks by state (all processes).', labelNames: ['state'], registers: [this.registry] });
  private readonly steps = new Gauge({ name: 'tasker_steps', help: 'Workflow steps by state (all processes).', labelNames: ['state'], registers: [this.registry] });
  private readonly held = new Gauge({
    name: 'tasker_steps_held',
    help: 'Steps held back by flow control (all processes), by reason: concurrency_limit, rate_limited.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly workers = new Gauge({ name: 'tasker_workers_alive', help: 'Worker processes seen within one lease period.', registers: [this.registry] });
  private readonly attempts = new Counter({
    name: 'tasker_step_attempts_total',
    help: 'Step attempts started by this process.',
    labelNames: ['namespace', 'task'],
    registers: [this.registry],
  });
  private readonly outcomes = new Counter({
    name: 'tasker_step_outcomes_total',
    help: 'Step attempts finished by this process, by outcome (completed, retry, failed).',
    labelNames: ['namespace', 'task', 'outcome'],
    registers: [this.registry],
  });
  private readonly durations = new Histogram({
    name: 'tasker_step_duration_seconds',
    help: 'Duration of step attempts run by this process.',
    labelNames: ['namespace', 'task', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly finished = new Counter({
    name: 'tasker_tasks_finished_total',
    help: 'Tasks that reached complete, error or cancelled through this process.',
    labelNames: ['namespace', 'task', 'state'],
    registers: [this.registry],
  });
  private readonly claimLatency = new Histogram({
    name: 'tasker_claim_latency_seconds',
    help: 'Latency of the claim query of this process.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  private readonly claimed = new Counter({ name: 'tasker_steps_claimed_total', help: 'Steps claimed by this process.', registers: [this.registry] });
  private readonly emptyClaims = new Counter({
    name: 'tasker_claims_empty_total',
    help: 'Claim queries of this process that found no ready step (a round-trip of their own, not those riding with outcomes).',
    registers: [this.registry],
  });
  private readonly purged = new Counter({
    name: 'tasker_tasks_purged_total',
    help: 'Finished tasks deleted by this process (retention sweep and purgeTasks), by state.',
    labelNames: ['state'],
    registers: [this.registry],
  });
  private readonly listener = (event: string | string[], p: TaskerEventPayload) => this.observe(event, p);

  constructor(
    private readonly tasker: TaskerService,
    private readonly emitter: EventEmitter2,
    private readonly internals: TaskerInternals,
  ) {}

  onModuleInit(): void {
    collectDefaultMetrics({ register: this.registry });
    this.emitter.onAny(this.listener);
    this.internals.onClaim((ms, n, alone) => {
      this.claimLatency.observe(ms / 1000);
      this.claimed.inc(n);
      if (n === 0 && alone) this.emptyClaims.inc();
    });
    this.internals.onPurge((state, n) => this.purged.inc({ state }, n));
  }

  onModuleDestroy(): void {
    this.emitter.offAny(this.listener);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition, with fresh counts from Postgres. */
  async scrape(): Promise<string> {
    const stats = await this.tasker.stats();
    for (const [state, n] of Object.entries(stats.tasks)) this.tasks.set({ state }, n);
    for (const [state, n] of Object.entries(stats.steps)) this.steps.set({ state }, n);
    for (const [reason, n] of Object.entries(stats.held)) this.held.set({ reason }, n);
    this.workers.set(stats.workersAlive);
    return this.registry.metrics();
  }

  private observe(event: string | string[], p: TaskerEventPayload): void {
    if (typeof event !== 'string' || !event.startsWith('tasker.')) return;
    const labels = { namespace: p.namespace, task: p.taskName };
    switch (p.event) {
      case TaskerEvents.STEP_STARTED:
        this.attempts.inc(labels);
        break;
      case TaskerEvents.STEP_COMPLETED:
        this.outcomes.inc({ ...labels, outcome: 'completed' });
        if (p.durationMs !== undefined) this.durations.observe({ ...labels, outcome: 'completed' }, p.durationMs / 1000);
        break;
      case TaskerEvents.STEP_FAILED: {
        const outcome = p.willRetry ? 'retry' : 'failed';
        this.outcomes.inc({ ...labels, outcome });
        if (p.durationMs !== undefined) this.durations.observe({ ...labels, outcome }, p.durationMs / 1000);
        break;
      }
      case TaskerEvents.TASK_COMPLETED:
        this.finished.inc({ ...labels, state: 'complete' });
        break;
      case TaskerEvents.TASK_FAILED:
        this.finished.inc({ ...labels, state: 'error' });
        break;
      case TaskerEvents.TASK_CANCELLED:
        this.finished.inc({ ...labels, state: 'cancelled' });
        break;
    }
  }
}
