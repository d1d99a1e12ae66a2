/** Cron expressions of `@TaskHandler({ schedules })`, parsed and iterated by the `cron` package. Pure: no Nest, no database. */
import { CronTime } from 'cron';

/** Schedules without a time zone run in UTC: every process of a fleet then computes the same ticks. */
export const DEFAULT_SCHEDULE_TIMEZONE = 'UTC';
/** Longer expressions are refused (the idempotency key of a tick carries the expression). */
export const MAX_CRON_LENGTH = 100;

/** The expression as stored and matched: fields separated by one space, no leading or trailing blanks. */
export function normalizeCron(cron: string): string {
  return cron.trim().split(/\s+/).join(' ');
}

/** What is wrong with an expression or time zone, in words (`null`: nothing). */
export function cronProblem(cron: unknown, timezone: unknown): { field: 'cron' | 'timezone'; reason: string } | null {
  if (typeof cron !== 'string' || cron.trim() === '') return { field: 'cron', reason: 'must be a non-empty string' };
  if (cron.length > MAX_CRON_LENGTH) return { field: 'cron', reason: `must be at most ${MAX_CRON_LENGTH} characters` };
  if (timezone !== undefined && (typeof timezone !== 'string' || timezone.trim() === '')) {
    return { field: 'timezone', reason: 'must be an IANA time zone name such as "Europe/Berlin"' };
  }
  const zone = (timezone as string | undefined) ?? DEFAULT_SCHEDULE_TIMEZONE;
  // The cron package checks the zone before the expression: check the zone alone first, so a bad
  // zone is named as such even when the expression is bad too.
  try {
    new CronTime('* * * * *', zone);
  } catch {
    return { field: 'timezone', reason: `"${zone}" is not a time zone (use an IANA name such as "Europe/Berlin")` };
  }
  const fields = normalizeCron(cron).split(' ').length;
  if (!cron.trim().startsWith('@') && (fields < 5 || fields > 6)) {
    return { field: 'cron', reason: `has ${fields} field${fields === 1 ? '' : 's'}; write 5 (minute hour day-of-month month day-of-week) or 6 (a leading second)` };
  }
  let time: CronTime;
  try {
    time = new CronTime(normalizeCron(cron), zone);
  } catch (e) {
    return { field: 'cron', reason: (e as Error).message.split('\n')[0].trim() };
  }
  try {
    time.getNextDateFrom(new Date(), zone);
  } catch {
    return { field: 'cron', reason: 'never fires (no matching time in the next 8 years)' };
  }
  return null;
}

/** A valid expression in its time zone: the ticks it fires at. */
export class CronSchedule {
  private readonly time: CronTime;

  /** Throws on an invalid expression or zone: check with cronProblem first. */
  constructor(
    readonly cron: string,
    readonly timezone: string = DEFAULT_SCHEDULE_TIMEZONE,
  ) {
    this.time = new CronTime(normalizeCron(cron), timezone);
  }

  /** The first tick strictly after `at`. */
  nextAfter(at: Date): Date {
    return this.time.getNextDateFrom(at, this.timezone).toJSDate();
  }

  /**
   * What a schedule due since `dueAt` fires at `now`: the latest tick in [dueAt, now] (`null` when
   * there is none: then nothing fires), and the first tick after `now`. The ticks missed between
   * them are not fired: after downtime, one task for the latest. Found by bisection, so a schedule
   * of every second that was down for a year costs a few dozen steps, not 31 million.
   */
  due(dueAt: Date, now: Date): { tick: Date | null; next: Date } {
    const next = this.nextAfter(now);
    const first = this.nextAfter(new Date(dueAt.getTime() - 1));
    if (first.getTime() > now.getTime()) return { tick: null, next };
    // Invariant: the first tick after lo is at or before now; the first tick after hi is after now.
    let lo = first.getTime();
    let hi = now.getTime();
    if (this.nextAfter(new Date(lo)).getTime() > hi) return { tick: first, next };
    while (hi - lo > 1_000) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.nextAfter(new Date(mid)).getTime() <= now.getTime()) lo = mid;
      else hi = mid;
    }
    // Ticks fall on whole seconds: within a second of lo there is one more at most.
    let tick = this.nextAfter(new Date(lo));
    for (let after = this.nextAfter(tick); after.getTime() <= now.getTime(); after = this.nextAfter(tick)) tick = after;
    return { tick, next };
  }
}
