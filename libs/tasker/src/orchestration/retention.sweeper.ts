import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import { TASKER_CONFIG } from '../tasker.constants';
import { PURGE_FAILED_LOG, PURGED_LOG } from '../tasker.messages';
import { TaskPurger } from './task.purger';

/**
 * Retention, on @nestjs/schedule: every `retention.intervalMs` deletes the tasks that finished more
 * than `retention.finishedAfterMs` ago. Runs in every process with the option (workers or not);
 * ticks never overlap, and sweeps of several processes share the work.
 */
@Injectable()
export class RetentionSweeper {
  static readonly intervalName = 'tasker-retention';
  private readonly logger = new Logger('Tasker');
  private name = RetentionSweeper.intervalName;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly purger: TaskPurger,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  start(): void {
    if (!this.config.retention || !this.scheduler) return;
    this.stopped = false;
    this.name = `${RetentionSweeper.intervalName}:${this.config.schema}:${randomUUID().slice(0, 8)}`;
    this.scheduler.addInterval(this.name, setInterval(() => void this.sweep(), this.config.retention.intervalMs));
  }

  /** Ends the loop after its current batch (the database closes after this). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scheduler?.doesExist('interval', this.name)) this.scheduler.deleteInterval(this.name);
    await this.running;
  }

  /** One pass; how many tasks it deleted (0 while a pass is running). */
  sweep(): Promise<number> {
    if (!this.config.retention || this.running) return Promise.resolve(0);
    this.running = this.pass(this.config.retention).finally(() => (this.running = null));
    return this.running;
  }

  private async pass(retention: NonNullable<TaskerConfig['retention']>): Promise<number> {
    try {
      const cutoff = new Date(Date.now() - retention.finishedAfterMs);
      const n = await this.purger.purge(cutoff, undefined, () => this.stopped);
      if (n > 0) this.logger.log(PURGED_LOG(n, cutoff.toISOString()));
      return n;
    } catch (e) {
      this.logger.error(PURGE_FAILED_LOG((e as Error).message));
      return 0;
    }
  }
}
