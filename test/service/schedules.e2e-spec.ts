import { Injectable } from '@nestjs/common';
import { IsIn } from 'class-validator';
import { HandlerDefinitionError, ScheduleNotFoundError, ScheduleView, Step, TaskerEvents, TaskHandler, TaskValidationError } from 'nestjs-tasker';
import { Pool } from 'pg';
import {
  ALSO_EVERY_SECOND,
  DigestV1,
  DigestV2,
  DigestV3,
  EVERY_SECOND,
  HeartbeatWorkflow,
  NS,
  PingWorkflow,
  ReportWithoutHourlyWorkflow,
  ReportWorkflow,
} from '../fixtures/schedules.workflows';
import { databaseUrl, dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';

/**
 * Cron schedules (@TaskHandler({ schedules })) against a real Postgres: one task per tick across
 * processes, only the latest missed tick after downtime, pause and resume, what listSchedules
 * shows, how registration keeps and removes schedules, versions, who fires, and bad declarations.
 */
interface TaskRow {
  id: string;
  name: string;
  version: string;
  run_at: Date;
  idempotency_key: string;
  created_at: Date;
  initiator: string;
  reason: string;
}

const pool = new Pool({ connectionString: databaseUrl(), max: 4 });
afterAll(() => pool.end());

/** The tasks a schedule created, oldest tick first. */
async function tasksOf(schema: string, name: string, cron?: string): Promise<TaskRow[]> {
  const { rows } = await pool.query<TaskRow>(
    `SELECT id::text, name, version, run_at, idempotency_key, created_at, initiator, reason FROM "${schema}".tasks
      WHERE namespace = $1 AND name = $2 AND ($3::text IS NULL OR idempotency_key LIKE 'schedule:' || $3 || '@%')
      ORDER BY run_at, id`,
    [NS, name, cron ?? null],
  );
  return rows;
}

const keyOf = (cron: string, tick: Date) => `schedule:${cron}@${tick.toISOString()}`;
const byCron = (views: ScheduleView[], name: string, cron: string) => views.filter((v) => v.name === name && v.cron === cron);

describe('schedules: every second, two processes racing', () => {
  const schema = uniqueSchema('sch');
  const apps: TestApp[] = [];

  beforeAll(async () => {
    // Boot one after the other (concurrent boots are the migrations test's subject).
    for (let i = 0; i < 2; i++) apps.push(await startApp(schema, [HeartbeatWorkflow]));
  });
  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await dropSchema(schema);
  });

  it('creates exactly one task per tick, with runAt = the tick and an idempotency key from the expression and the tick', async () => {
    const tasks = await waitFor('six ticks of the heartbeat', async () => {
      const t = await tasksOf(schema, 'heartbeat', EVERY_SECOND);
      return t.length >= 6 && t;
    });
    const ticks = tasks.map((t) => t.run_at.getTime());
    expect(new Set(ticks).size).toBe(tasks.length);
    for (const t of tasks) {
      expect(t.run_at.getMilliseconds()).toBe(0);
      expect(t.idempotency_key).toBe(keyOf(EVERY_SECOND, t.run_at));
      expect(t.initiator).toBe('schedule');
      expect(t.reason).toBe(`schedule "${EVERY_SECOND}" (UTC), tick ${t.run_at.toISOString()}`);
    }
    const first = await apps[0].tasker.getTask(tasks[0].id);
    expect(first.context).toEqual({ kind: 'beat' });
    expect(first.runAt).toEqual(tasks[0].run_at);
    const trail = await apps[1].tasker.getAuditTrail(tasks[0].id);
    expect(trail[0]).toMatchObject({ stepName: null, from: null, to: 'pending', actor: 'schedule' });
  });

  it('pauses: no task for its ticks while the other schedule goes on; listSchedules shows who paused, the last run and task', async () => {
    const paused = await apps[0].tasker.pauseSchedule({ namespace: NS, name: 'heartbeat', cron: EVERY_SECOND }, { actor: 'ops', reason: 'maintenance' });
    expect(paused).toEqual([
      expect.objectContaining({ namespace: NS, name: 'heartbeat', version: '0.1.0', cron: EVERY_SECOND, paused: true, nextRunAt: null }),
    ]);
    expect(paused[0].lastChange).toEqual({ action: 'paused', actor: 'ops', reason: 'maintenance', at: expect.any(Date) });
    // The pause waited for a tick being fired: what exists now is all there is until the resume.
    const before = await tasksOf(schema, 'heartbeat', EVERY_SECOND);
    const last = before[before.length - 1];
    const other = (await tasksOf(schema, 'heartbeat', ALSO_EVERY_SECOND)).length;
    await waitFor('three more ticks of the other schedule', async () => (await tasksOf(schema, 'heartbeat', ALSO_EVERY_SECOND)).length >= other + 3);
    expect(await tasksOf(schema, 'heartbeat', EVERY_SECOND)).toHaveLength(before.length);

    const views = await apps[1].tasker.listSchedules({ namespace: NS });
    const [view] = byCron(views, 'heartbeat', EVERY_SECOND);
    expect(view).toEqual({
      namespace: NS,
      name: 'heartbeat',
      version: '0.1.0',
      cron: EVERY_SECOND,
      timezone: 'UTC',
      context: { kind: 'beat' },
      nextRunAt: null,
      lastRunAt: last.run_at,
      lastTaskId: last.id,
      paused: true,
      lastChange: { action: 'paused', actor: 'ops', reason: 'maintenance', at: paused[0].lastChange!.at },
      lastError: null,
      declaredAt: expect.any(Date),
    });
    const [running] = byCron(views, 'heartbeat', ALSO_EVERY_SECOND);
    expect(running).toMatchObject({ paused: false, context: {}, lastChange: null });
    expect(running.nextRunAt!.getTime()).toBeGreaterThan(running.lastRunAt!.getTime());
    expect(running.lastTaskId).not.toBeNull();
  });

  it('pausing again changes nothing; resuming fires again from the next tick, not the ticks missed while paused', async () => {
    const again = await apps[1].tasker.pauseSchedule({ namespace: NS, name: 'heartbeat', cron: EVERY_SECOND }, { actor: 'someone-else' });
    expect(again[0].lastChange).toMatchObject({ action: 'paused', actor: 'ops' });
    const before = await tasksOf(schema, 'heartbeat', EVERY_SECOND);

    // Spaces in the expression do not matter.
    const [resumed] = await apps[1].tasker.resumeSchedule({ namespace: NS, name: 'heartbeat', cron: ` ${EVERY_SECOND.replace(/ /g, '  ')} ` }, { actor: 'ops' });
    expect(resumed).toMatchObject({ paused: false, lastChange: { action: 'resumed', actor: 'ops' } });
    expect(resumed.nextRunAt!.getTime()).toBeGreaterThan(resumed.lastChange!.at.getTime());
    const after = await waitFor('a tick after the resume', async () => {
      const t = await tasksOf(schema, 'heartbeat', EVERY_SECOND);
      return t.length > before.length && t.slice(before.length);
    });
    expect(after[0].run_at.getTime()).toBeGreaterThan(resumed.lastChange!.at.getTime());

    const { rows: events } = await pool.query(`SELECT action, actor, reason FROM "${schema}".schedule_events ORDER BY id`);
    expect(events).toEqual([
      { action: 'paused', actor: 'ops', reason: 'maintenance' },
      { action: 'resumed', actor: 'ops', reason: null },
    ]);
  });

  it('announced each task once (task.created), from the process that created it', async () => {
    // Closed first: every pass has committed and published by then.
    for (const a of apps) await a.close();
    const tasks = await tasksOf(schema, 'heartbeat');
    const created = apps.flatMap((a) => a.events.filter((e) => e.event === TaskerEvents.TASK_CREATED).map((e) => e.taskId));
    expect(created.sort()).toEqual(tasks.map((t) => t.id).sort());
    const { rows } = await pool.query(`SELECT run_at, idempotency_key, count(*)::int AS n FROM "${schema}".tasks GROUP BY 1, 2 HAVING count(*) > 1`);
    expect(rows).toEqual([]);
  });

  it('refuses an unknown schedule and a malformed one with typed errors', async () => {
    const app = await startApp(schema, [HeartbeatWorkflow], { worker: { enabled: false } });
    apps.push(app);
    await expect(app.tasker.pauseSchedule({ namespace: NS, name: 'heartbeat', cron: '*/5 * * * *' })).rejects.toThrow(ScheduleNotFoundError);
    await expect(app.tasker.resumeSchedule({ name: 'heartbeat', cron: EVERY_SECOND })).rejects.toThrow(
      'No schedule "* * * * * *" of task "default/heartbeat" is registered (listSchedules or GET /tasker/schedules lists them).',
    );
    const bad = await app.tasker.pauseSchedule({ name: 'no such name!', cron: '' } as never, { actor: 42 } as never).catch((e) => e);
    expect(bad).toBeInstanceOf(TaskValidationError);
    expect((bad as TaskValidationError).errors.map((e) => e.field).sort()).toEqual(['actor', 'cron', 'name']);
    await expect(app.tasker.listSchedules({ version: '1' } as never)).rejects.toThrow(TaskValidationError);
  });
});

describe('schedules: downtime, registration, versions, who fires', () => {
  const schema = uniqueSchema('sch');
  let app: TestApp | undefined;
  const boot = async (...providers: (new (...a: never[]) => object)[]) => {
    await app?.close();
    app = await startApp(schema, providers);
    return app;
  };

  afterAll(async () => {
    await app?.close().catch(() => undefined);
    await dropSchema(schema);
  });

  it('registers each schedule with its next tick, nothing due', async () => {
    const a = await boot(ReportWorkflow);
    const views = await a.tasker.listSchedules({ name: 'report', namespace: NS });
    expect(views.map((v) => [v.cron, v.timezone, v.paused, v.lastRunAt, v.lastTaskId])).toEqual([
      ['0 * * * *', 'UTC', false, null, null],
      ['0 0 1 1 *', 'Europe/Berlin', false, null, null],
    ]);
    const hourly = views[0].nextRunAt!;
    expect(hourly.getTime() % 3_600_000).toBe(0);
    expect(hourly.getTime() - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect(await tasksOf(schema, 'report')).toEqual([]);
  });

  it('after downtime, runs only the latest missed tick of each schedule', async () => {
    await app!.close();
    app = undefined;
    // As if no process had run for a while: the hourly schedule missed 5 ticks, the yearly one 3.
    await pool.query(`UPDATE "${schema}".schedules SET next_run_at = now() - interval '5 hours 10 minutes' WHERE cron = '0 * * * *'`);
    await pool.query(`UPDATE "${schema}".schedules SET next_run_at = now() - interval '3 years' WHERE cron = '0 0 1 1 *'`);
    const a = await boot(ReportWorkflow);
    const tasks = await waitFor('the two schedules to fire', async () => {
      const t = await tasksOf(schema, 'report');
      return t.length >= 2 && t;
    });
    const views = await a.tasker.listSchedules({ name: 'report', namespace: NS });
    expect(await tasksOf(schema, 'report')).toHaveLength(2);

    const hourly = tasks.find((t) => t.idempotency_key.startsWith('schedule:0 * * * *@'))!;
    expect(hourly.run_at.getTime() % 3_600_000).toBe(0);
    expect(hourly.created_at.getTime() - hourly.run_at.getTime()).toBeLessThan(3_600_000);
    expect(hourly.created_at.getTime()).toBeGreaterThanOrEqual(hourly.run_at.getTime());
    expect(views[0]).toMatchObject({ cron: '0 * * * *', lastRunAt: hourly.run_at, lastTaskId: hourly.id, nextRunAt: new Date(hourly.run_at.getTime() + 3_600_000) });

    // Midnight of January 1st in Berlin (UTC+1 in winter), of the year it is now in Berlin.
    const year = Number(new Intl.DateTimeFormat('en', { timeZone: 'Europe/Berlin', year: 'numeric' }).format(hourly.created_at));
    const yearly = tasks.find((t) => t.idempotency_key.startsWith('schedule:0 0 1 1 *@'))!;
    expect(yearly.run_at).toEqual(new Date(Date.UTC(year - 1, 11, 31, 23)));
    expect(views[1]).toMatchObject({ cron: '0 0 1 1 *', lastRunAt: yearly.run_at, lastTaskId: yearly.id, nextRunAt: new Date(Date.UTC(year, 11, 31, 23)) });
    expect((await a.tasker.getTask(yearly.id)).context).toEqual({ period: 'year' });
  });

  it('keeps a paused schedule paused across boots, and removes a schedule the code no longer declares', async () => {
    await app!.tasker.pauseSchedule({ namespace: NS, name: 'report', cron: '0 0 1 1 *' }, { actor: 'ops' });
    const a = await boot(ReportWorkflow);
    expect((await a.tasker.listSchedules({ name: 'report', namespace: NS })).map((v) => [v.cron, v.paused])).toEqual([
      ['0 * * * *', false],
      ['0 0 1 1 *', true],
    ]);
    const b = await boot(ReportWithoutHourlyWorkflow);
    const views = await b.tasker.listSchedules({ name: 'report', namespace: NS });
    expect(views.map((v) => [v.cron, v.paused, v.lastTaskId !== null])).toEqual([['0 0 1 1 *', true, true]]);
  });

  it('two versions declaring one expression: one task per tick; pause and resume act on every version, and a version deployed meanwhile starts paused', async () => {
    const a = await boot(DigestV1, DigestV2);
    const tasks = await waitFor('four ticks of the digest', async () => {
      const t = await tasksOf(schema, 'digest');
      return t.length >= 4 && t;
    });
    expect(new Set(tasks.map((t) => t.run_at.getTime())).size).toBe(tasks.length);
    expect(new Set(tasks.map((t) => t.idempotency_key)).size).toBe(tasks.length);

    const paused = await a.tasker.pauseSchedule({ namespace: NS, name: 'digest', cron: EVERY_SECOND }, { actor: 'ops' });
    expect(paused.map((v) => [v.version, v.paused])).toEqual([
      ['2.0.0', true],
      ['1.0.0', true],
    ]);
    const b = await boot(DigestV1, DigestV2, DigestV3);
    expect((await b.tasker.listSchedules({ name: 'digest', namespace: NS })).map((v) => [v.version, v.paused])).toEqual([
      ['3.0.0', true],
      ['2.0.0', true],
      ['1.0.0', true],
    ]);
    const resumed = await b.tasker.resumeSchedule({ namespace: NS, name: 'digest', cron: EVERY_SECOND }, { actor: 'ops' });
    expect(resumed.map((v) => v.paused)).toEqual([false, false, false]);
    const before = (await tasksOf(schema, 'digest')).length;
    await waitFor('three ticks after the resume', async () => (await tasksOf(schema, 'digest')).length >= before + 3);
    const { rows } = await pool.query(`SELECT run_at, count(*)::int AS n FROM "${schema}".tasks WHERE name = 'digest' GROUP BY 1 HAVING count(*) > 1`);
    expect(rows).toEqual([]);
  });

  it('is fired only by processes with a worker, for the task types they have handlers for', async () => {
    await app?.close();
    // An API-only process declares ping; a worker process has heartbeat only.
    const apiOnly = await startApp(schema, [PingWorkflow], { worker: { enabled: false } });
    app = await startApp(schema, [HeartbeatWorkflow]);
    try {
      expect((await apiOnly.tasker.listSchedules({ name: 'ping', namespace: NS })).map((v) => [v.cron, v.paused])).toEqual([[EVERY_SECOND, false]]);
      const start = (await tasksOf(schema, 'heartbeat')).length;
      await waitFor('the worker process to fire three ticks', async () => (await tasksOf(schema, 'heartbeat')).length >= start + 3);
      expect(await tasksOf(schema, 'ping')).toEqual([]);
    } finally {
      await apiOnly.close();
    }
  });
});

describe('schedules: bad declarations fail the boot', () => {
  const schema = uniqueSchema('sch');
  afterAll(() => dropSchema(schema));

  async function bootError(handler: new () => object): Promise<HandlerDefinitionError> {
    const e = await startApp(schema, [handler]).then(
      async (a) => {
        await a.close();
        throw new Error('the app booted');
      },
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(HandlerDefinitionError);
    return e as HandlerDefinitionError;
  }

  it('names the handler, the expression and what is wrong with it', async () => {
    @TaskHandler({ name: 'bad_cron', schedules: [{ cron: '61 * * * *' }] })
    class BadCron {
      @Step()
      run() {}
    }
    expect((await bootError(BadCron)).message).toBe(
      '@TaskHandler BadCron (default/bad_cron@0.1.0) is invalid: schedules[0] ("61 * * * *"): cron expression "61 * * * *" is invalid: Field value (61) is out of range.',
    );

    @TaskHandler({ name: 'few_fields', schedules: [{ cron: '0 2 * *' }, { cron: '0 0 31 2 *' }] })
    class FewFields {
      @Step()
      run() {}
    }
    expect((await bootError(FewFields)).message).toBe(
      '@TaskHandler FewFields (default/few_fields@0.1.0) is invalid: ' +
        'schedules[0] ("0 2 * *"): cron expression "0 2 * *" has 4 fields; write 5 (minute hour day-of-month month day-of-week) or 6 (a leading second); ' +
        'schedules[1] ("0 0 31 2 *"): cron expression "0 0 31 2 *" never fires (no matching time in the next 8 years).',
    );
  });

  it('names a bad time zone, a bad context, an unknown option and an expression declared twice', async () => {
    @TaskHandler({
      name: 'bad_zone',
      schedules: [
        { cron: '0 2 * * *', timezone: 'Europe/Atlantis' },
        { cron: '0 3 * * *', context: [] as never },
        { cron: '0 4 * * *', tz: 'UTC' } as never,
        { cron: '0 3  * * *' },
      ],
    })
    class BadZone {
      @Step()
      run() {}
    }
    expect((await bootError(BadZone)).message).toBe(
      '@TaskHandler BadZone (default/bad_zone@0.1.0) is invalid: ' +
        'schedules[0] ("0 2 * * *"): timezone "Europe/Atlantis" is not a time zone (use an IANA name such as "Europe/Berlin"); ' +
        'schedules[1] ("0 3 * * *"): context must be a JSON object; ' +
        'schedules[2] ("0 4 * * *"): tz is not a schedule option (cron, timezone, context); ' +
        'schedules[3] ("0 3  * * *"): this cron expression is declared twice (one schedule per expression and task type).',
    );
  });

  it("checks each schedule's context with the handler's context DTO", async () => {
    class PeriodDto {
      @IsIn(['day', 'week'])
      period!: string;
    }
    @Injectable()
    @TaskHandler({ name: 'bad_context', context: PeriodDto, schedules: [{ cron: '0 2 * * *', context: { period: 'day' } }, { cron: '0 3 * * *', context: { period: 'month' } }] })
    class BadContext {
      @Step()
      run() {}
    }
    expect((await bootError(BadContext)).message).toBe(
      '@TaskHandler BadContext (default/bad_context@0.1.0) is invalid: ' +
        "schedules[1] (\"0 3 * * *\"): its context fails the handler's context DTO: context.period period must be one of the following values: day, week.",
    );
  });
});
