import { Client } from 'pg';
import { HandlerDefinitionError, ScheduleNotFoundError, Step, TaskHandler } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { ReportSchedules, ReportStore, SchedulesModule } from './schedules';

/** Polls `probe` until it returns something other than undefined/false. */
async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs the samples of the Schedules section of docs/flow-control.md. */
describe('docs/flow-control.md samples: schedules', () => {
  let kit: TaskerTestingApp;
  const sql = async (text: string) => {
    const c = new Client({ connectionString: kit.databaseUrl });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    kit = await createTaskerTestingApp({ imports: [SchedulesModule] });
  });
  afterAll(() => kit?.close());

  it('registers each schedule with its next tick, in its zone', async () => {
    const all = await kit.tasker.listSchedules();
    expect(all.map((s) => [s.namespace, s.name, s.cron, s.timezone, s.context, s.paused])).toEqual([
      ['fx', 'refresh_rates', '*/5 * * * * *', 'UTC', {}, false],
      ['reports', 'nightly_report', '0 2 * * *', 'Europe/Berlin', { kind: 'daily' }, false],
      ['reports', 'nightly_report', '30 6 * * mon', 'UTC', { kind: 'weekly' }, false],
    ]);
    // 02:00 in Berlin is 00:00 or 01:00 UTC, depending on daylight saving time.
    expect([0, 1]).toContain(all[1].nextRunAt!.getUTCHours());
    expect(all[2].nextRunAt!.getUTCDay()).toBe(1);
  });

  it('a schedule of seconds fires by itself: one task per tick, runAt = the tick', async () => {
    const tasks = await until('two ticks of refresh_rates', async () => {
      const page = await kit.tasker.listTasks({ namespace: 'fx', name: 'refresh_rates' });
      return page.items.length >= 2 && page.items;
    });
    for (const t of tasks) {
      expect(t.runAt!.getTime() % 5_000).toBe(0);
      expect(t.idempotencyKey).toBe(`schedule:*/5 * * * * *@${t.runAt!.toISOString()}`);
      expect(t.initiator).toBe('schedule');
    }
  });

  it('after downtime the nightly report runs once, for the latest missed night, and knows which night', async () => {
    // As if no process had run for three days.
    await sql(`UPDATE "${kit.schema}".schedules SET next_run_at = now() - interval '3 days' WHERE cron = '0 2 * * *'`);
    const store = kit.get(ReportStore);
    await until('the nightly report', () => store.rendered.length > 0);
    const [s] = (await kit.tasker.listSchedules({ namespace: 'reports' })).filter((x) => x.cron === '0 2 * * *');
    expect(store.rendered).toEqual([{ kind: 'daily', tick: s.lastRunAt!.toISOString() }]);
    expect(Date.now() - s.lastRunAt!.getTime()).toBeLessThan(86_400_000);
    const done = await kit.tasker.waitForTask(s.lastTaskId!);
    expect(done.state).toBe('complete');
    expect(done.runAt).toEqual(s.lastRunAt);
  });

  it('operators pause and resume it (ReportSchedules)', async () => {
    const ops = kit.get(ReportSchedules);
    const [paused] = await ops.freeze('alice');
    expect(paused).toMatchObject({ paused: true, nextRunAt: null, lastChange: { action: 'paused', actor: 'alice', reason: 'month-end freeze' } });
    const overview = await ops.overview();
    expect(overview[0]).toMatch(/^nightly_report@0\.1\.0 "0 2 \* \* \*" \(Europe\/Berlin\): paused by alice, last task \d+$/);
    expect(overview[1]).toMatch(/^nightly_report@0\.1\.0 "30 6 \* \* mon" \(UTC\): next .*, last task none yet$/);
    const [resumed] = await ops.thaw('alice');
    expect(resumed.paused).toBe(false);
    expect(resumed.nextRunAt!.getTime()).toBeGreaterThan(Date.now());
    await expect(kit.tasker.pauseSchedule({ namespace: 'reports', name: 'nightly_report', cron: '0 3 * * *' })).rejects.toThrow(ScheduleNotFoundError);
  });

  it('a bad expression fails the boot, naming it', async () => {
    @TaskHandler({ name: 'typo', schedules: [{ cron: '0 25 * * *' }] })
    class Typo {
      @Step()
      run() {}
    }
    await expect(createTaskerTestingApp({ providers: [Typo] })).rejects.toThrow(
      new HandlerDefinitionError('@TaskHandler Typo (default/typo@0.1.0) is invalid: schedules[0] ("0 25 * * *"): cron expression "0 25 * * *" is invalid: Field value (25) is out of range.'),
    );
  });
});
