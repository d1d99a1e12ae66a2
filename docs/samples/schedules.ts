import { Injectable, Module } from '@nestjs/common';
import { Step, TaskerService, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';

/** Stands in for a report store: what was rendered, for which period. */
@Injectable()
export class ReportStore {
  readonly rendered: { kind: string; tick: string }[] = [];
}

// #region nightly-report
@TaskHandler({
  name: 'nightly_report',
  namespace: 'reports',
  schedules: [
    // Every day at 02:00 in Berlin (cron: minute hour day-of-month month day-of-week).
    { cron: '0 2 * * *', timezone: 'Europe/Berlin', context: { kind: 'daily' } },
    // Mondays at 06:30, in UTC (the default zone).
    { cron: '30 6 * * mon', context: { kind: 'weekly' } },
  ],
})
export class NightlyReportWorkflow {
  constructor(
    private readonly store: ReportStore,
    private readonly tasker: TaskerService,
  ) {}

  @Step()
  async render(ctx: StepContext<{ kind: string }>) {
    // The task's runAt is the tick it was created for: the period to report on, even when it runs late.
    const { runAt } = await this.tasker.getTask(ctx.task.id);
    const tick = runAt!.toISOString();
    this.store.rendered.push({ kind: ctx.task.context.kind, tick });
    return { report: `${ctx.task.context.kind}-${tick}.pdf` };
  }
}
// #endregion

// #region every-few-seconds
// A 6th, leading field counts seconds: every 5 seconds.
@TaskHandler({ name: 'refresh_rates', namespace: 'fx', schedules: [{ cron: '*/5 * * * * *' }] })
export class RefreshRatesWorkflow {
  @Step()
  fetch() {
    return { eurUsd: 1.08 };
  }
}
// #endregion

// #region operate
@Injectable()
export class ReportSchedules {
  constructor(private readonly tasker: TaskerService) {}

  /** What the reports' schedules do next, and what they last did. */
  async overview(): Promise<string[]> {
    const schedules = await this.tasker.listSchedules({ namespace: 'reports' });
    return schedules.map(
      (s) =>
        `${s.name}@${s.version} "${s.cron}" (${s.timezone}): ` +
        (s.paused ? `paused by ${s.lastChange?.actor}` : `next ${s.nextRunAt!.toISOString()}`) +
        `, last task ${s.lastTaskId ?? 'none yet'}`,
    );
  }

  /** No nightly report until thaw(): the expression is paused in every version that declares it. */
  freeze(operator: string) {
    return this.tasker.pauseSchedule(
      { namespace: 'reports', name: 'nightly_report', cron: '0 2 * * *' },
      { actor: operator, reason: 'month-end freeze' },
    );
  }

  /** Resumes from the next 02:00; the nights missed while paused are not run. */
  thaw(operator: string) {
    return this.tasker.resumeSchedule({ namespace: 'reports', name: 'nightly_report', cron: '0 2 * * *' }, { actor: operator });
  }
}
// #endregion

@Module({ providers: [ReportStore, NightlyReportWorkflow, RefreshRatesWorkflow, ReportSchedules] })
export class SchedulesModule {}
