import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { TaskerError } from '../errors/tasker.error';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import { DueSchedule, ScheduleRepository } from '../persistence/schedule.repository';
import { TaskerDatabase } from '../persistence/tasker-database';
import { HandlerRegistry } from '../registry/handler.registry';
import { CronSchedule } from '../schedules/cron-schedule';
import { TASKER_CONFIG, TASKER_DATABASE } from '../tasker.constants';
import { SCHEDULE_SWEEP_FAILED_LOG, SCHEDULE_TASK_REASON, SCHEDULE_TICK_FAILED_LOG } from '../tasker.messages';
import { TaskerService } from '../tasker.service';
import { WorkSignals } from './work.signals';
import { escapeLogText } from '../events/log-text';

/** The initiator of the tasks schedules create (the actor of their first audit entry). */
export const SCHEDULE_INITIATOR = 'schedule';
/** When the earliest tick is due but another process holds it, look again this much later. */
const HELD_RETRY_MS = 200;
/** setTimeout's longest delay; the sweep interval comes sooner anyway. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Fires the cron schedules of the task types this process has handlers for (in a process with a
 * worker). Each tick is one transaction: it takes the due schedule FOR UPDATE SKIP LOCKED, creates
 * the tick's task through TaskerService.createTasks in that transaction (idempotency key from the
 * expression and the tick, runAt = the tick), and moves next_run_at to the first tick after now:
 * after downtime only the latest missed tick runs. A timer wakes it at the earliest next tick; the
 * sweep interval (@nestjs/schedule) and resumes (NOTIFY 'schedules') wake it too. Passes never overlap.
 */
@Injectable()
export class ScheduleRunner {
  static readonly intervalName = 'tasker-schedules';
  private readonly logger = new Logger('Tasker');
  private name = ScheduleRunner.intervalName;
  private typeIds: number[] = [];
  private running = false;
  private pass?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly schedules: ScheduleRepository,
    private readonly registry: HandlerRegistry,
    private readonly tasker: TaskerService,
    private readonly signals: WorkSignals,
    @Inject(TASKER_DATABASE) private readonly db: TaskerDatabase,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {
    this.signals.on({ notified: (payload) => payload === 'schedules' && this.wake() });
  }

  /** Starts firing, if any handler of this process declares schedules. */
  start(): void {
    this.typeIds = this.registry
      .all()
      .filter((h) => (h.schedules?.length ?? 0) > 0)
      .map((h) => h.typeId);
    if (this.typeIds.length === 0 || this.running) return;
    this.running = true;
    if (this.scheduler) {
      this.name = `${ScheduleRunner.intervalName}:${this.config.schema}:${randomUUID().slice(0, 8)}`;
      this.scheduler.addInterval(this.name, setInterval(() => this.wake(), this.config.worker.sweepIntervalMs));
    }
    this.wake();
  }

  /** Stops firing; resolves when a pass under way has finished (its transaction committed or rolled back). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    if (this.scheduler?.doesExist('interval', this.name)) this.scheduler.deleteInterval(this.name);
    await this.pass;
  }

  /** Fires what is due now, then sets the timer for the next tick. */
  wake(): void {
    if (!this.running) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.run().finally(() => {
      this.pass = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async run(): Promise<void> {
    clearTimeout(this.timer);
    try {
      while (this.running && (await this.fireOne()));
      if (!this.running) return;
      const ms = await this.schedules.msUntilNext(this.typeIds);
      if (ms === null || !this.running) return;
      // Still due after firing everything this process could take: another process holds it now.
      const delay = ms <= 0 ? HELD_RETRY_MS : Math.min(Math.ceil(ms) + 5, MAX_TIMER_MS);
      this.timer = setTimeout(() => this.wake(), delay);
    } catch (e) {
      // The sweep interval tries again.
      this.logger.error(escapeLogText(SCHEDULE_SWEEP_FAILED_LOG((e as Error).message)));
    }
  }

  /** Fires the earliest due schedule; false when none is due (or all due ones are held by others). */
  private async fireOne(): Promise<boolean> {
    let failed: { due: DueSchedule; next: Date; tick: Date; error: TaskerError } | undefined;
    const fired = await this.db.transaction(async (manager) => {
      const due = await this.schedules.lockDue(this.typeIds, manager);
      if (!due) return false;
      const { tick, next } = new CronSchedule(due.cron, due.timezone).due(due.next_run_at, due.now);
      if (!tick) {
        await this.schedules.skip(due.id, next, null, manager);
        return true;
      }
      try {
        const [task] = await this.tasker.createTasks(
          [
            {
              namespace: due.namespace,
              name: due.name,
              version: due.version,
              context: due.context,
              idempotencyKey: scheduleIdempotencyKey(due.cron, tick),
              runAt: tick,
              initiator: SCHEDULE_INITIATOR,
              reason: SCHEDULE_TASK_REASON(due.cron, due.timezone, tick.toISOString()),
            },
          ],
          { manager },
        );
        await this.schedules.fired(due.id, tick, task.id, next, manager);
        return true;
      } catch (e) {
        // A request the service refuses (a context the DTO no longer accepts...) would fail at every
        // pass: that tick is skipped, in a transaction of its own since this one is lost.
        if (!(e instanceof TaskerError)) throw e;
        failed = { due, next, tick, error: e };
        throw e;
      }
    }).catch((e) => {
      if (failed) return false;
      throw e;
    });
    if (failed) {
      const { due, next, tick, error } = failed;
      const type = `${due.namespace}/${due.name}@${due.version}`;
      this.logger.error(escapeLogText(SCHEDULE_TICK_FAILED_LOG(due.cron, type, tick.toISOString(), error.message, next.toISOString())));
      await this.schedules.skip(due.id, next, `${tick.toISOString()}: ${error.message}`);
      return true;
    }
    return fired;
  }
}

/**
 * The idempotency key of a tick's task: the expression and the tick, not the task version, so that
 * while two versions declare the same expression (a rolling upgrade) each tick still creates one
 * task. Idempotency keys are unique per namespace and task name.
 */
export function scheduleIdempotencyKey(cron: string, tick: Date): string {
  return `schedule:${cron}@${tick.toISOString()}`;
}
