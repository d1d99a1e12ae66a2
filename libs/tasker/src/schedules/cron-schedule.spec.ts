import { HandlerDefinitionError } from '../errors/boot.errors';
import { buildHandlerDefinition } from '../registry/definition-builder';
import { CronSchedule, cronProblem, normalizeCron } from './cron-schedule';
import { scheduleDefinitions } from '../registry/schedule-definitions';

const at = (iso: string) => new Date(iso);

describe('CronSchedule', () => {
  it('gives the first tick strictly after a time, in UTC by default', () => {
    const hourly = new CronSchedule('0 * * * *');
    expect(hourly.nextAfter(at('2025-03-01T10:00:00Z'))).toEqual(at('2025-03-01T11:00:00Z'));
    expect(hourly.nextAfter(at('2025-03-01T10:59:59.999Z'))).toEqual(at('2025-03-01T11:00:00Z'));
    expect(new CronSchedule('* * * * * *').nextAfter(at('2025-03-01T10:00:00.500Z'))).toEqual(at('2025-03-01T10:00:01Z'));
  });

  it('reads the expression in its time zone, across daylight saving time', () => {
    const berlin = new CronSchedule('0 2 * * *', 'Europe/Berlin');
    expect(berlin.nextAfter(at('2025-01-10T12:00:00Z'))).toEqual(at('2025-01-11T01:00:00Z')); // UTC+1
    expect(berlin.nextAfter(at('2025-07-10T12:00:00Z'))).toEqual(at('2025-07-11T00:00:00Z')); // UTC+2
  });

  describe('due: what fires at `now` for a schedule due since `dueAt`', () => {
    const now = at('2025-03-01T10:00:05.300Z');

    it('fires the tick that came due, and goes on with the first tick after now', () => {
      expect(new CronSchedule('* * * * * *').due(at('2025-03-01T10:00:05Z'), now)).toEqual({
        tick: at('2025-03-01T10:00:05Z'),
        next: at('2025-03-01T10:00:06Z'),
      });
    });

    it('after downtime, only the latest missed tick', () => {
      expect(new CronSchedule('* * * * * *').due(at('2025-03-01T09:00:00Z'), now).tick).toEqual(at('2025-03-01T10:00:05Z'));
      expect(new CronSchedule('0 * * * *').due(at('2025-03-01T05:00:00Z'), now)).toEqual({ tick: at('2025-03-01T10:00:00Z'), next: at('2025-03-01T11:00:00Z') });
      expect(new CronSchedule('0 0 1 1 *').due(at('2020-01-01T00:00:00Z'), now)).toEqual({ tick: at('2025-01-01T00:00:00Z'), next: at('2026-01-01T00:00:00Z') });
      // Every second, but only from 02:00 to 02:59:59: the latest is the last second of that hour.
      expect(new CronSchedule('* * 2 * * *').due(at('2024-03-01T00:00:00Z'), now).tick).toEqual(at('2025-03-01T02:59:59Z'));
      // A year of missed seconds costs a bisection, not a walk.
      expect(new CronSchedule('* * * * * *').due(at('2015-03-01T00:00:00Z'), now).tick).toEqual(at('2025-03-01T10:00:05Z'));
    });

    it('fires nothing when no tick fell between dueAt and now (dueAt need not be a tick)', () => {
      expect(new CronSchedule('0 * * * *').due(at('2025-03-01T09:30:00Z'), now)).toEqual({ tick: at('2025-03-01T10:00:00Z'), next: at('2025-03-01T11:00:00Z') });
      expect(new CronSchedule('0 * * * *').due(at('2025-03-01T10:00:01Z'), now)).toEqual({ tick: null, next: at('2025-03-01T11:00:00Z') });
    });
  });
});

describe('cronProblem', () => {
  it.each([
    ['* * * * *', undefined],
    ['*/15 * * * * *', undefined],
    ['0 2 * * mon-fri', 'Europe/Berlin'],
    ['@daily', undefined],
    ['0 9 1 jan *', 'America/New_York'],
  ])('accepts %j (%s)', (cron, zone) => {
    expect(cronProblem(cron, zone)).toBeNull();
  });

  it.each([
    ['61 * * * *', undefined, { field: 'cron', reason: 'Field value (61) is out of range' }],
    ['* * *', undefined, { field: 'cron', reason: 'has 3 fields; write 5 (minute hour day-of-month month day-of-week) or 6 (a leading second)' }],
    ['* * * * * * *', undefined, { field: 'cron', reason: 'has 7 fields; write 5 (minute hour day-of-month month day-of-week) or 6 (a leading second)' }],
    ['0 0 31 2 *', undefined, { field: 'cron', reason: 'never fires (no matching time in the next 8 years)' }],
    ['*/0 * * * *', undefined, { field: 'cron', reason: 'Field (minute) has a step of zero' }],
    ['  ', undefined, { field: 'cron', reason: 'must be a non-empty string' }],
    [42, undefined, { field: 'cron', reason: 'must be a non-empty string' }],
    ['* * * * *', 'Mars/Olympus', { field: 'timezone', reason: '"Mars/Olympus" is not a time zone (use an IANA name such as "Europe/Berlin")' }],
    ['* * * * *', '', { field: 'timezone', reason: 'must be an IANA time zone name such as "Europe/Berlin"' }],
  ])('refuses %j (%j)', (cron, zone, problem) => {
    expect(cronProblem(cron, zone)).toEqual(problem);
  });

  it('normalizes blanks, which is how a schedule is named', () => {
    expect(normalizeCron('  0   2 *\t* * ')).toBe('0 2 * * *');
  });
});

describe('schedules in a handler definition', () => {
  const defaults = { retryLimit: 3, backoff: { baseMs: 1_000, maxMs: 300_000, jitter: 0.2 } };
  const step = [{ methodName: 'run', options: {}, dependsOn: [] }];

  it('are validated and kept with their zone (UTC unless given) and context ({} unless given)', () => {
    const def = buildHandlerDefinition('Nightly', { name: 'nightly', schedules: [{ cron: '0  2 * * *' }, { cron: '0 3 * * *', timezone: 'Asia/Tokyo', context: { a: 1 } }] }, step, defaults);
    expect(def.schedules).toEqual([
      { cron: '0 2 * * *', timezone: 'UTC', context: {} },
      { cron: '0 3 * * *', timezone: 'Asia/Tokyo', context: { a: 1 } },
    ]);
    expect(buildHandlerDefinition('Plain', { name: 'plain' }, step, defaults)).not.toHaveProperty('schedules');
  });

  it('fail the definition with every problem, next to the others', () => {
    expect(() => buildHandlerDefinition('Nightly', { name: 'nightly', schedules: [{ cron: 'x' }] }, [], defaults)).toThrow(
      new HandlerDefinitionError(
        '@TaskHandler Nightly (default/nightly@0.1.0) is invalid: schedules[0] ("x"): cron expression "x" has 1 field; ' +
          'write 5 (minute hour day-of-month month day-of-week) or 6 (a leading second); it has no @Step methods.',
      ),
    );
    const problems: string[] = [];
    expect(scheduleDefinitions('0 2 * * *', problems)).toEqual([]);
    expect(scheduleDefinitions([null, { cron: '* * * * *', context: { n: 1n } }], problems)).toEqual([]);
    expect(problems).toEqual([
      'schedules must be an array of { cron, timezone?, context? }',
      'schedules[0]: must be an object { cron, timezone?, context? }',
      'schedules[1] ("* * * * *"): context must be JSON-serializable (Do not know how to serialize a BigInt)',
    ]);
  });
});
