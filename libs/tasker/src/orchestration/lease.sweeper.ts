import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import { StepRepository } from '../persistence/step.repository';
import { TASKER_CONFIG } from '../tasker.constants';
import { OutageLog } from './outage.log';
import { TransitionPublisher } from './transition.publisher';
import { WorkSignals } from './work.signals';

const BATCH = 500;

/**
 * The safety net, on @nestjs/schedule: attempts whose worker died (its lease lapsed) fail with
 * LeaseExpiredError and become ready again; then the worker looks for work, which also picks up
 * delayed starts and retries that came due. Ticks never overlap.
 */
@Injectable()
export class LeaseSweeper {
  static readonly intervalName = 'tasker-lease-sweeper';
  private readonly logger = new Logger('Tasker');
  private readonly outage = new OutageLog(this.logger, 'Lease sweep');
  private busy = false;
  private name = LeaseSweeper.intervalName;

  constructor(
    private readonly steps: StepRepository,
    private readonly publisher: TransitionPublisher,
    private readonly signals: WorkSignals,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  start(): void {
    if (!this.scheduler) return;
    // Several Tasker modules (schemas) may live in one app: keep interval names apart.
    this.name = `${LeaseSweeper.intervalName}:${this.config.schema}:${randomUUID().slice(0, 8)}`;
    const timer = setInterval(() => void this.sweep(), this.config.worker.sweepIntervalMs);
    this.scheduler.addInterval(this.name, timer);
  }

  stop(): void {
    if (this.scheduler?.doesExist('interval', this.name)) this.scheduler.deleteInterval(this.name);
  }

  /** One pass; returns how many expired attempts it settled. */
  async sweep(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    let settled = 0;
    try {
      for (;;) {
        const rows = await this.publisher.change(this.steps.expire(BATCH), (r) => r);
        const n = rows.filter((r) => r.kind === 'step' && r.from_state === 'in_progress').length;
        settled += n;
        if (n < BATCH) break;
      }
      this.outage.succeeded();
      if (settled > 0) this.logger.warn(`Reclaimed ${settled} attempt(s) whose worker stopped renewing its lease.`);
    } catch (e) {
      this.outage.failed(e);
    } finally {
      this.busy = false;
    }
    // Reclaimed attempts are ready again; a pass that reclaimed nothing wakes no one: a claim every
    // sweepIntervalMs for nothing could hold the claim slot when a step finishes and delay its hand-off.
    if (settled > 0) this.signals.work();
    return settled;
  }
}
