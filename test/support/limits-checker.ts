/**
 * The flow-control checker (SPEC §9.2, §9.3): from a history of who held a place when, it reports
 *
 * - every instant at which more than `limit` holders of one concurrency group were running
 *   (attempts of one step with one key value; tasks of one type with one key value), and
 * - every sliding window of `periodMs` in which more than `limit` attempts started for one rate
 *   group (a bucket and a key value, across every step type sharing the bucket).
 *
 * The pure part works on numbers (milliseconds since the epoch, fractions allowed): holds are
 * half-open, [from, to): a place freed at t may be taken again at t. A rate window is half-open too:
 * two starts exactly `periodMs` apart are in different windows.
 *
 * The history comes from the transitions Tasker records in the same transaction as each change:
 * `transitionsFromAuditTrail` (the public audit trail, millisecond times) or `readTransitions`
 * (the transition tables, microsecond times). An attempt holds its place from its move to
 * `in_progress` to its next move (complete, error, a lease that lapsed, released to pending,
 * waiting, cancelled); a task holds its type's place while it, or any of its steps, is in progress.
 * Truncating times to milliseconds can hide an overlap shorter than a millisecond, never invent
 * one (for whole-millisecond periods).
 */
import type { AuditEntry } from 'nestjs-tasker';

/** Milliseconds since the epoch (fractions allowed). */
export type Ms = number;

/** Something held a place of `group` during [from, to); `to` null: still held when the history was read. */
export interface Hold {
  group: string;
  id: string;
  from: Ms;
  to: Ms | null;
}

/** Something started in rate group `group` at `at`. */
export interface Start {
  group: string;
  id: string;
  at: Ms;
}

/** At `at`, `running` holders of `group` (named in `holders`) held a place, more than `limit`. */
export interface OverLimit {
  group: string;
  at: Ms;
  running: number;
  limit: number;
  holders: string[];
}

/** In [from, from + periodMs), `starts` starts of `group` (named in `ids`), more than `limit`. */
export interface OverRate {
  group: string;
  from: Ms;
  starts: number;
  limit: number;
  periodMs: number;
  ids: string[];
  /** The time between the first start of the window and the (limit+1)-th: less than periodMs. */
  spanMs: Ms;
}

/** A limit for every group, or one per group. */
export type PerGroup = number | ((group: string) => number);
const of = (p: PerGroup, group: string) => (typeof p === 'number' ? p : p(group));

function groupBy<T>(xs: Iterable<T>, key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/**
 * Every instant at which a group had more than its limit running: one entry per start that took the
 * count above the limit. At one instant, holds that end there are let go before those that start
 * there are counted; a hold that starts and ends at the same instant (only possible with truncated
 * times) counts at that instant.
 */
export function concurrencyViolations(holds: Hold[], limit: PerGroup): OverLimit[] {
  const out: OverLimit[] = [];
  for (const [group, hs] of groupBy(holds, (h) => h.group)) {
    const lim = of(limit, group);
    // kind 0: an end; 1: a start; 2: the end of a hold that started at the same instant.
    const events: { at: Ms; kind: 0 | 1 | 2; hold: Hold }[] = [];
    for (const h of hs) {
      if (h.to !== null && h.to < h.from) throw new Error(`hold ${h.id} of ${group} ends (${h.to}) before it starts (${h.from})`);
      events.push({ at: h.from, kind: 1, hold: h });
      if (h.to !== null) events.push({ at: h.to, kind: h.to === h.from ? 2 : 0, hold: h });
    }
    events.sort((a, b) => a.at - b.at || a.kind - b.kind);
    const running = new Set<Hold>();
    for (const e of events) {
      if (e.kind === 1) {
        running.add(e.hold);
        if (running.size > lim) out.push({ group, at: e.at, running: running.size, limit: lim, holders: [...running].map((h) => h.id) });
      } else running.delete(e.hold);
    }
  }
  return out;
}

/** The most holders each group had at once (counted as concurrencyViolations counts them). */
export function maxRunning(holds: Hold[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [group, hs] of groupBy(holds, (h) => h.group)) {
    // kind 0: an end; 1: a start; 2: the end of a hold that started at the same instant.
    const events = hs.flatMap((h) => [{ at: h.from, kind: 1 }, ...(h.to === null ? [] : [{ at: h.to, kind: h.to === h.from ? 2 : 0 }])]);
    events.sort((a, b) => a.at - b.at || a.kind - b.kind);
    let n = 0;
    let max = 0;
    for (const e of events) {
      n += e.kind === 1 ? 1 : -1;
      max = Math.max(max, n);
    }
    out.set(group, max);
  }
  return out;
}

/**
 * Every window [t, t + periodMs) with more than `limit` starts of one group, one entry per start
 * that opens such a window (any window with too many starts contains one that opens at a start).
 */
export function rateViolations(starts: Start[], limit: PerGroup, periodMs: PerGroup): OverRate[] {
  const out: OverRate[] = [];
  for (const [group, ss] of groupBy(starts, (s) => s.group)) {
    const lim = of(limit, group);
    const period = of(periodMs, group);
    const sorted = [...ss].sort((a, b) => a.at - b.at);
    let end = 0; // the first start at or after sorted[i].at + period
    for (let i = 0; i < sorted.length; i++) {
      end = Math.max(end, i);
      while (end < sorted.length && sorted[end].at < sorted[i].at + period) end++;
      const n = end - i;
      if (n > lim) {
        out.push({ group, from: sorted[i].at, starts: n, limit: lim, periodMs: period, ids: sorted.slice(i, end).map((s) => s.id), spanMs: sorted[i + lim].at - sorted[i].at });
      }
    }
  }
  return out;
}

/** The least time between a start and the (limit+1)-th after it, per group (Infinity: never limit+1 starts). */
export function tightestSpan(starts: Start[], limit: PerGroup): Map<string, Ms> {
  const out = new Map<string, Ms>();
  for (const [group, ss] of groupBy(starts, (s) => s.group)) {
    const lim = of(limit, group);
    const at = ss.map((s) => s.at).sort((a, b) => a - b);
    let min = Infinity;
    for (let i = 0; i + lim < at.length; i++) min = Math.min(min, at[i + lim] - at[i]);
    out.set(group, min);
  }
  return out;
}

/** Readable lines for a test failure (ISO times with microseconds where there are any). */
export function describeViolations(v: { concurrency?: OverLimit[]; rate?: OverRate[] }, max = 20): string[] {
  const iso = (ms: Ms) => {
    const whole = Math.floor(ms);
    const micros = Math.round((ms - whole) * 1000);
    return new Date(whole).toISOString().replace('Z', micros ? `${String(micros).padStart(3, '0')}Z` : 'Z');
  };
  const lines = [
    ...(v.concurrency ?? []).map((o) => `concurrency ${o.group}: ${o.running} running at ${iso(o.at)} (limit ${o.limit}): ${o.holders.join(', ')}`),
    ...(v.rate ?? []).map(
      (o) =>
        `rate ${o.group}: ${o.starts} starts in ${o.periodMs} ms from ${iso(o.from)} (limit ${o.limit}; ${o.limit + 1} within ${o.spanMs.toFixed(3)} ms): ${o.ids.join(', ')}`,
    ),
  ];
  return lines.length > max ? [...lines.slice(0, max), `… and ${lines.length - max} more`] : lines;
}

// ---------------------------------------------------------------------------------------------
// Histories from Tasker's transitions.

/** One recorded transition of a task (`step` null) or of one of its steps. */
export interface Transition {
  taskId: string;
  step: string | null;
  from: string | null;
  to: string;
  at: Ms;
  attempt?: number | null;
  /** The order in which they were recorded (the transition id), when known: breaks ties of `at`. */
  seq?: number;
}

/** The audit trails of some tasks as transitions (millisecond times; each trail's order kept). */
export function transitionsFromAuditTrail(trails: AuditEntry[][]): Transition[] {
  const out: Transition[] = [];
  for (const trail of trails) {
    for (const e of trail) {
      out.push({ taskId: e.taskId, step: e.stepName ?? null, from: e.from, to: e.to, at: e.at.getTime(), attempt: e.attempt ?? null });
    }
  }
  return out;
}

/** Anything that runs a query: a pg Client or Pool. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>;
}

/** Every transition of a schema, with the database's microsecond times, in the order recorded. */
export async function readTransitions(db: Queryable, schema: string): Promise<Transition[]> {
  const s = `"${schema}"`;
  const { rows } = await db.query(`
    SELECT id, task_id::text, step_name AS step, from_state, to_state, attempt, (extract(epoch FROM created_at) * 1000)::float8 AS at
      FROM ${s}.transitions
     ORDER BY 1`);
  return rows.map((r: any) => ({
    taskId: r.task_id,
    step: r.step,
    from: r.from_state,
    to: r.to_state,
    at: Number(r.at),
    attempt: r.attempt,
    seq: Number(r.id),
  }));
}

function chronological(ts: Transition[]): Transition[] {
  return ts
    .map((t, i) => ({ t, i }))
    .sort((a, b) => a.t.at - b.t.at || (a.t.seq ?? a.i) - (b.t.seq ?? b.i))
    .map((x) => x.t);
}

/** One stretch in progress of one step: from its move to in_progress to the move that ended it. */
export interface StepRun {
  taskId: string;
  step: string;
  attempt: number | null;
  from: Ms;
  to: Ms | null;
  /** What it moved from: pending / error (an attempt that starts), waiting (claimed back from a wait). */
  startedFrom: string | null;
  /** What ended it (complete, error, pending for a release, waiting, cancelled); null while in progress. */
  endedTo: string | null;
}

/** Every stretch in progress of every step. */
export function stepRuns(transitions: Transition[]): StepRun[] {
  const open = new Map<string, StepRun>();
  const out: StepRun[] = [];
  for (const t of chronological(transitions)) {
    if (t.step === null) continue;
    const k = `${t.taskId}\u0000${t.step}`;
    const cur = open.get(k);
    if (cur && t.from === 'in_progress') {
      cur.to = t.at;
      cur.endedTo = t.to;
      open.delete(k);
    } else if (cur && t.to === 'in_progress') {
      // Two moves to in_progress in a row (an illegal chain, reported by the trail checks): the first ends here.
      cur.to = t.at;
      cur.endedTo = 'in_progress';
      open.delete(k);
    }
    if (t.to === 'in_progress') {
      const run: StepRun = { taskId: t.taskId, step: t.step, attempt: t.attempt ?? null, from: t.at, to: null, startedFrom: t.from, endedTo: null };
      open.set(k, run);
      out.push(run);
    }
  }
  return out;
}

/** One stretch during which a task was in progress, or any of its steps was. */
export interface TaskRun {
  taskId: string;
  from: Ms;
  to: Ms | null;
}

/**
 * When each task was active: in progress itself, or running a step (a step claimed before its task
 * is recorded as started counts from the step's claim). Overlapping stretches are merged.
 */
export function taskRuns(transitions: Transition[]): TaskRun[] {
  const spans = new Map<string, { from: Ms; to: Ms | null }[]>();
  const add = (taskId: string, from: Ms, to: Ms | null) => {
    const list = spans.get(taskId);
    if (list) list.push({ from, to });
    else spans.set(taskId, [{ from, to }]);
  };
  const openTask = new Map<string, Ms>();
  for (const t of chronological(transitions)) {
    if (t.step !== null) continue;
    if (t.to === 'in_progress') openTask.set(t.taskId, t.at);
    else if (t.from === 'in_progress' && openTask.has(t.taskId)) {
      add(t.taskId, openTask.get(t.taskId)!, t.at);
      openTask.delete(t.taskId);
    }
  }
  for (const [taskId, from] of openTask) add(taskId, from, null);
  for (const r of stepRuns(transitions)) add(r.taskId, r.from, r.to);

  const out: TaskRun[] = [];
  for (const [taskId, list] of spans) {
    list.sort((a, b) => a.from - b.from);
    let cur: { from: Ms; to: Ms | null } | undefined;
    for (const s of list) {
      if (cur && (cur.to === null || s.from <= cur.to)) {
        if (cur.to !== null && (s.to === null || s.to > cur.to)) cur.to = s.to;
      } else {
        if (cur) out.push({ taskId, ...cur });
        cur = { ...s };
      }
    }
    if (cur) out.push({ taskId, ...cur });
  }
  return out;
}

/**
 * A key's value as SPEC §9.2 defines it: the value at a dotted path of the task's context, "" when
 * it is missing (or null); no path: one group for everything ("").
 */
export function keyValue(context: unknown, path?: string | null): string {
  if (!path) return '';
  let v: unknown = context;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return '';
    v = (v as Record<string, unknown>)[part];
  }
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Holds of step attempts, in the group `groupOf` names (undefined: not limited). */
export function stepHolds(runs: StepRun[], groupOf: (r: StepRun) => string | undefined): Hold[] {
  const out: Hold[] = [];
  for (const r of runs) {
    const group = groupOf(r);
    if (group !== undefined) out.push({ group, id: `task ${r.taskId} ${r.step}#${r.attempt ?? '?'}`, from: r.from, to: r.to });
  }
  return out;
}

/** Attempt starts (a claim back from a wait is not a new start), in the rate group `groupOf` names. */
export function stepStarts(runs: StepRun[], groupOf: (r: StepRun) => string | undefined): Start[] {
  const out: Start[] = [];
  for (const r of runs) {
    if (r.startedFrom === 'waiting') continue;
    const group = groupOf(r);
    if (group !== undefined) out.push({ group, id: `task ${r.taskId} ${r.step}#${r.attempt ?? '?'}`, at: r.from });
  }
  return out;
}

/** Holds of tasks, in the group `groupOf` names (undefined: not limited). */
export function taskHolds(runs: TaskRun[], groupOf: (taskId: string) => string | undefined): Hold[] {
  const out: Hold[] = [];
  for (const r of runs) {
    const group = groupOf(r.taskId);
    if (group !== undefined) out.push({ group, id: `task ${r.taskId}`, from: r.from, to: r.to });
  }
  return out;
}
