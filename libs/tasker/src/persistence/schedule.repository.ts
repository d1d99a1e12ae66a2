import type { EntityManager } from 'typeorm';
import type { ScheduleView } from '../interfaces/views.interface';
import type { ScheduleDefinition } from '../registry/handler-definition';
import { CronSchedule } from '../schedules/cron-schedule';
import { TaskerDatabase } from './tasker-database';

/** A schedule row with its task type, as listSchedules shows it. */
export interface ScheduleRow {
  id: number;
  named_task_id: number;
  namespace: string;
  name: string;
  version: string;
  cron: string;
  timezone: string;
  context: Record<string, unknown>;
  next_run_at: Date;
  last_run_at: Date | null;
  last_task_id: string | null;
  last_error: string | null;
  paused: boolean;
  declared_at: Date;
  /** The last pause or resume of this (namespace, name, cron). */
  change_action: 'paused' | 'resumed' | null;
  change_actor: string | null;
  change_reason: string | null;
  change_at: Date | null;
}

/** A due schedule, locked by the transaction that fires it. */
export interface DueSchedule {
  id: number;
  namespace: string;
  name: string;
  version: string;
  cron: string;
  timezone: string;
  context: Record<string, unknown>;
  next_run_at: Date;
  /** The database's clock when it was taken: ticks are computed against it, never a process's own clock. */
  now: Date;
}

/** Schedules: declared at boot, fired by the sweep, listed, paused and resumed by operators. */
export class ScheduleRepository {
  constructor(private readonly db: TaskerDatabase) {}

  /** Records the schedules a task type version declares; returns the expressions no longer declared (removed). */
  async sync(typeId: number, schedules: readonly ScheduleDefinition[]): Promise<string[]> {
    const now = new Date();
    const items = schedules.map((s) => ({ ...s, nextRunAt: new CronSchedule(s.cron, s.timezone).nextAfter(now).toISOString() }));
    const rows = await this.db.query<{ removed: string }>(`SELECT removed FROM ${this.db.s}.sync_schedules($1, $2::jsonb)`, [typeId, JSON.stringify(items)]);
    return rows.map((r) => r.removed);
  }

  /**
   * Takes the earliest due schedule of these task types, locked until `manager`'s transaction ends;
   * a schedule another process is firing is skipped, not waited for.
   */
  async lockDue(typeIds: readonly number[], manager: EntityManager): Promise<DueSchedule | undefined> {
    const [row] = await this.db.query<DueSchedule>(
      `SELECT s.id, ns.name AS namespace, nt.name, nt.version, s.cron, s.timezone, s.context, s.next_run_at, clock_timestamp() AS now
         FROM ${this.db.s}.schedules s
         JOIN ${this.db.s}.named_tasks nt ON nt.id = s.named_task_id
         JOIN ${this.db.s}.namespaces ns ON ns.id = nt.namespace_id
        WHERE NOT s.paused AND s.next_run_at <= clock_timestamp() AND s.named_task_id = ANY ($1::int[])
        ORDER BY s.next_run_at
        LIMIT 1
        FOR UPDATE OF s SKIP LOCKED`,
      [typeIds],
      manager,
    );
    return row;
  }

  /** The tick fired: its task, and the next tick. */
  async fired(id: number, tick: Date, taskId: string, next: Date, manager: EntityManager): Promise<void> {
    await this.db.query(
      `UPDATE ${this.db.s}.schedules SET last_run_at = $2, last_task_id = $3, next_run_at = $4, last_error = NULL WHERE id = $1`,
      [id, tick, taskId, next],
      manager,
    );
  }

  /**
   * Nothing to fire (no tick since it was due), or the tick could not create its task: on to the
   * next tick. A no-op when someone fired it meanwhile (it is already due at `next` or later).
   */
  async skip(id: number, next: Date, error: string | null, manager?: EntityManager): Promise<void> {
    await this.db.query(
      `UPDATE ${this.db.s}.schedules SET next_run_at = $2, last_error = coalesce($3, last_error) WHERE id = $1 AND next_run_at < $2`,
      [id, next, error],
      manager,
    );
  }

  /** Milliseconds from the database's now to the earliest tick of these types (negative: due), or null when none is scheduled. */
  async msUntilNext(typeIds: readonly number[]): Promise<number | null> {
    const [row] = await this.db.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM min(next_run_at) - clock_timestamp()) * 1000)::float8 AS ms
         FROM ${this.db.s}.schedules WHERE NOT paused AND named_task_id = ANY ($1::int[])`,
      [typeIds],
    );
    return row?.ms ?? null;
  }

  /** Every schedule, with its task type and its last pause or resume. */
  list(namespace?: string, name?: string): Promise<ScheduleRow[]> {
    return this.db.read<ScheduleRow>(
      `SELECT s.id, s.named_task_id, ns.name AS namespace, nt.name, nt.version, s.cron, s.timezone, s.context, s.next_run_at,
              s.last_run_at, s.last_task_id::text, s.last_error, s.paused, s.declared_at,
              e.action AS change_action, e.actor AS change_actor, e.reason AS change_reason, e.at AS change_at
         FROM ${this.db.s}.schedules s
         JOIN ${this.db.s}.named_tasks nt ON nt.id = s.named_task_id
         JOIN ${this.db.s}.namespaces ns ON ns.id = nt.namespace_id
         LEFT JOIN LATERAL (
           SELECT action, actor, reason, at FROM ${this.db.s}.schedule_events se
            WHERE se.namespace = ns.name AND se.name = nt.name AND se.cron = s.cron
            ORDER BY se.id DESC LIMIT 1) e ON true
        WHERE ($1::text IS NULL OR ns.name = $1) AND ($2::text IS NULL OR nt.name = $2)
        ORDER BY ns.name, nt.name, s.cron, nt.id`,
      [namespace ?? null, name ?? null],
    );
  }

  /**
   * Pauses or resumes every version's schedule with this expression, in one transaction that also
   * records who did it and why. A resumed schedule starts over from its first tick after now (ticks
   * missed while paused are not fired). Returns the ids of the schedules it names: none, no such schedule.
   */
  async setPaused(namespace: string, name: string, cron: string, paused: boolean, actor: string | null, reason: string | null): Promise<number[]> {
    return this.db.transaction(async (m) => {
      // The same lock as registration: a version registering the expression now sees the pause.
      await this.db.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`tasker-type:${namespace}/${name}`], m);
      const rows = await this.db.query<{ id: number; version: string; timezone: string; paused: boolean; now: Date }>(
        `SELECT s.id, nt.version, s.timezone, s.paused, clock_timestamp() AS now
           FROM ${this.db.s}.schedules s
           JOIN ${this.db.s}.named_tasks nt ON nt.id = s.named_task_id
           JOIN ${this.db.s}.namespaces ns ON ns.id = nt.namespace_id
          WHERE ns.name = $1 AND nt.name = $2 AND s.cron = $3
          ORDER BY s.id
          FOR UPDATE OF s`,
        [namespace, name, cron],
        m,
      );
      // Pausing a paused schedule (resuming a running one) changes nothing and records nothing.
      const changed = rows.filter((r) => r.paused !== paused);
      if (changed.length > 0) {
        const next = changed.map((r) => new CronSchedule(cron, r.timezone).nextAfter(r.now));
        await this.db.query(
          `UPDATE ${this.db.s}.schedules s SET paused = $2, next_run_at = CASE WHEN $2 THEN s.next_run_at ELSE x.next END
             FROM unnest($1::int[], $3::timestamptz[]) x(id, next) WHERE s.id = x.id`,
          [changed.map((r) => r.id), paused, next],
          m,
        );
        await this.db.query(
          `INSERT INTO ${this.db.s}.schedule_events (namespace, name, version, cron, action, actor, reason)
           SELECT $1, $2, v, $3, $4, $5, $6 FROM unnest($7::text[]) v`,
          [namespace, name, cron, paused ? 'paused' : 'resumed', actor, reason, changed.map((r) => r.version)],
          m,
        );
        // Processes that fire these schedules set their timers again (a resumed tick may be the earliest).
        if (!paused) await this.db.query(`SELECT ${this.db.s}._wake('schedules')`, [], m);
      }
      return rows.map((r) => r.id);
    });
  }
}

/** A schedule row as TaskerService shows it. */
export function toScheduleView(r: ScheduleRow): ScheduleView {
  return {
    namespace: r.namespace,
    name: r.name,
    version: r.version,
    cron: r.cron,
    timezone: r.timezone,
    context: r.context,
    nextRunAt: r.paused ? null : r.next_run_at,
    lastRunAt: r.last_run_at,
    lastTaskId: r.last_task_id,
    paused: r.paused,
    lastChange: r.change_action
      ? { action: r.change_action, ...(r.change_actor ? { actor: r.change_actor } : {}), ...(r.change_reason ? { reason: r.change_reason } : {}), at: r.change_at! }
      : null,
    lastError: r.last_error,
    declaredAt: r.declared_at,
  };
}
