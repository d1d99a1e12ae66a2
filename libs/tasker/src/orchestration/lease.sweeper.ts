import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { TaskerEventBus } from '../events/tasker-event-bus';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import { StepRepository } from '../persistence/step.repository';
import { TASKER_CONFIG } from '../tasker.constants';
import { TaskerWorker } from './tasker.worker';

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
  private busy = false;
  private name = LeaseSweeper.intervalName;

  constructor(
    private readonly steps: StepRepository,
    private readonly bus: TaskerEventBus,
    private readonly worker: TaskerWorker,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  start(): void {
    if (!this.scheduler) return;
    // Several Tasker modules (schemas) may live in one app: keep interval names apart.
    this.name = `${LeaseSweeper.intervalName}:${this.config.schema}:${this.worker.owner}`;
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
        const rows = await this.steps.expire(BATCH);
        this.bus.publishTransitions(rows);
        const n = rows.filter((r) => r.kind === 'step' && r.from_state === 'in_progress').length;
        settled += n;
        if (n < BATCH) break;
      }
      if (settled > 0) this.logger.warn(`Reclaimed ${settled} attempt(s) whose worker stopped renewing its lease.`);
    } catch (e) {
      this.logger.error(`Lease sweep failed (will retry): ${(e as Error).message}`);
    } finally {
      this.busy = false;
    }
    // Reclaimed attempts are ready again. (Waking after every pass made a claim every
    // sweepIntervalMs for nothing, which could hold the claim slot when a step finished.)
    if (settled > 0) this.worker.wake();
    return settled;
  }
}
