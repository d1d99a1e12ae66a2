/**
 * The checker of a fault run (Jepsen-style): reads back the whole history, Tasker's own rows and
 * transitions and the workload's side table of executions, and proves, for every task:
 *
 * 1. it reached a terminal state (complete, for this workload);
 * 2. every step completed exactly once, and its stored result is the one of the attempt the
 *    database recorded as completing it (a late finisher was fenced); attempts beyond the first
 *    came only after a failure or a lapsed lease (or after a release, which gives the attempt back);
 *    no claim was executed twice;
 * 3. no step started before all its parents completed;
 * 4. no two attempts of one step overlapped while both held a valid lease: an execution starts
 *    after its claim, and after the lease of every earlier claim ended;
 * 5. the audit trail is complete and ordered: it opens with the creation, each entity moves by
 *    legal transitions in sequence and time order, and ends in the state the row is in;
 * 6. every execution saw exactly its parents' stored results, and every stored value is the one
 *    the shape computes for the task's input.
 *
 * Time comparisons use only the database's clock (transitions and side table both take
 * clock_timestamp()), never a worker's.
 */
import { isDeepStrictEqual } from 'node:util';
import { Client } from 'pg';
import { canStepMove, canTaskMove, StepState, TaskState } from '../../../libs/tasker/src/state/states';
import { evaluate, shapeByName, StepResult, WORKLOAD_NAMESPACE } from './workload';

interface TaskRow {
  id: string;
  name: string;
  state: TaskState;
  context: { x: number };
  idempotency_key: string | null;
}
interface StepRow {
  id: string;
  task_id: string;
  name: string;
  state: StepState;
  attempts: number;
  results: StepResult | null;
  lease_owner: string | null;
}
interface Transition {
  id: string;
  task_id: string;
  step_name: string | null;
  from_state: string | null;
  to_state: string;
  attempt: number | null;
  actor: string | null;
  error: { name?: string; code?: string } | null;
  at: Date;
}
interface Execution {
  id: string;
  task_id: string;
  step: string;
  attempt: number;
  worker: string;
  seen: Record<string, unknown>;
  result: StepResult | null;
  started_at: Date;
  ended_at: Date | null;
}

export interface History {
  tasks: TaskRow[];
  steps: StepRow[];
  edges: { task_id: string; parent: string; child: string }[];
  transitions: Transition[];
  executions: Execution[];
}

export interface Verdict {
  tasks: number;
  completed: number;
  /** Tasks that did not complete (stuck, or in error). */
  lost: number;
  /** Steps completed more than once, claims executed twice, stored results not from the completing attempt. */
  duplicated: number;
  /** Executions beyond the one that completed each step (failures, lapsed leases, aborted attempts). */
  reexecutions: number;
  /** Executions that ended after their lease had been taken away, and whose result was not stored. */
  fencedLateFinishes: number;
  /** Attempts failed by the sweeper because their worker stopped renewing the lease. */
  leaseExpiries: number;
  /** Attempts given back unused by a stopping worker. */
  releases: number;
  violations: string[];
}

/** Reads the history of one schema. */
export async function readHistory(databaseUrl: string, schema: string): Promise<History> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const q = async <T>(sql: string) => (await c.query(sql)).rows as T[];
    const s = `"${schema}"`;
    return {
      tasks: await q<TaskRow>(`SELECT id::text, name, state, context, idempotency_key FROM ${s}.tasks WHERE namespace = '${WORKLOAD_NAMESPACE}' ORDER BY id`),
      steps: await q<StepRow>(`SELECT id::text, task_id::text, name, state, attempts, results, lease_owner FROM ${s}.workflow_steps ORDER BY id`),
      edges: await q(`SELECT e.task_id::text, p.name AS parent, ch.name AS child FROM ${s}.workflow_step_edges e
                        JOIN ${s}.workflow_steps p ON p.id = e.from_step_id JOIN ${s}.workflow_steps ch ON ch.id = e.to_step_id`),
      transitions: await q<Transition>(`
        SELECT id, task_id::text, step_name, from_state, to_state, attempt, actor, error, created_at AS at
          FROM ${s}.transitions
         ORDER BY 1`),
      executions: await q<Execution>(`SELECT id::text, task_id::text, step, attempt, worker, seen, result, started_at, ended_at
                                        FROM ${s}.fault_executions ORDER BY id`),
    };
  } finally {
    await c.end();
  }
}

const TERMINAL = new Set(['complete', 'error', 'cancelled', 'resolved_manually']);

/** One claim of a step (→ in_progress) and the transition that ended its lease, if any. */
interface Claim {
  open: Transition;
  close?: Transition;
}

export function check(h: History): Verdict {
  const v: Verdict = {
    tasks: h.tasks.length,
    completed: 0,
    lost: 0,
    duplicated: 0,
    reexecutions: 0,
    fencedLateFinishes: 0,
    leaseExpiries: 0,
    releases: 0,
    violations: [],
  };
  const bad = (msg: string) => {
    if (v.violations.length < 200) v.violations.push(msg);
  };
  const group = <T>(xs: T[], key: (x: T) => string) => {
    const m = new Map<string, T[]>();
    for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
    return m;
  };
  const stepsByTask = group(h.steps, (x) => x.task_id);
  const transByTask = group(h.transitions, (x) => x.task_id);
  const execsByStep = group(h.executions, (x) => `${x.task_id}/${x.step}`);
  const parentsOf = group(h.edges, (e) => `${e.task_id}/${e.child}`);
  // The sequence orders all transitions; ids are compared as numbers.
  const seq = (t: Transition) => BigInt(t.id);

  for (const task of h.tasks) {
    const where = `task ${task.id} (${task.name})`;
    const shape = shapeByName(task.name);
    const order = (name: string) => shape.steps.findIndex((x) => x.name === name);
    // Parents before children (the shape's order is topological), so a parent's completion is known when its children are checked.
    const steps = [...(stepsByTask.get(task.id) ?? [])].sort((a, b) => order(a.name) - order(b.name));
    const trail = transByTask.get(task.id) ?? [];
    const expected = evaluate(shape, task.context.x);

    // 1. terminal
    if (task.state === 'complete') v.completed++;
    else {
      v.lost++;
      bad(`${where} is ${task.state}${TERMINAL.has(task.state) ? '' : ' (not terminal)'}`);
    }
    if (steps.length !== shape.steps.length) bad(`${where} has ${steps.length} steps, its shape ${shape.steps.length}`);

    // 5. audit trail: creation first; legal chains in sequence and time order; ends where the row is.
    if (trail[0]?.step_name !== null || trail[0]?.from_state !== null || trail[0]?.to_state !== 'pending') {
      bad(`${where}: the trail does not open with the creation (null → pending)`);
    }
    for (let i = 1; i < trail.length; i++) {
      if (trail[i].at.getTime() < trail[i - 1].at.getTime()) bad(`${where}: transition ${trail[i].id} is dated before ${trail[i - 1].id}`);
    }
    const chains = group(trail, (t) => t.step_name ?? '');
    const taskChain = chains.get('') ?? [];
    let ts: string | null = null;
    for (const t of taskChain) {
      if (t.from_state !== ts) bad(`${where}: task ${t.from_state} → ${t.to_state} after ${ts}`);
      else if (ts !== null && !canTaskMove(ts as TaskState, t.to_state as TaskState)) bad(`${where}: illegal task move ${ts} → ${t.to_state}`);
      ts = t.to_state;
    }
    if (ts !== task.state) bad(`${where}: the trail ends in ${ts}, the task is ${task.state}`);

    const completeAt = new Map<string, Transition>();
    for (const st of steps) {
      const sw = `${where} step ${st.name}`;
      const chain = chains.get(st.name) ?? [];
      let state: string = 'pending';
      const claims: Claim[] = [];
      const completes: Transition[] = [];
      for (const t of chain) {
        if (t.from_state !== state) bad(`${sw}: ${t.from_state} → ${t.to_state} after ${state}`);
        else if (!canStepMove(state as StepState, t.to_state as StepState)) bad(`${sw}: illegal move ${state} → ${t.to_state}`);
        state = t.to_state;
        if (t.to_state === 'in_progress') claims.push({ open: t });
        else if (t.from_state === 'in_progress' && claims.length) claims[claims.length - 1].close = t;
        if (t.to_state === 'complete') completes.push(t);
        if (t.error?.code === 'LEASE_EXPIRED') v.leaseExpiries++;
        if (t.from_state === 'in_progress' && t.to_state === 'pending') v.releases++;
      }
      if (state !== st.state) bad(`${sw}: the trail ends in ${state}, the step is ${st.state}`);

      // 2. exactly once, and the stored result is the completing attempt's
      if (completes.length !== 1) {
        if (completes.length > 1) v.duplicated++;
        if (task.state === 'complete') bad(`${sw} completed ${completes.length} times`);
        continue;
      }
      const done = completes[0];
      completeAt.set(st.name, done);
      if (st.results?.attempt !== done.attempt || st.results?.by !== done.actor) {
        v.duplicated++;
        bad(`${sw}: stored result is from attempt ${st.results?.attempt} by ${st.results?.by}, the completion was attempt ${done.attempt} by ${done.actor}`);
      }
      if (!isDeepStrictEqual(st.results?.v, expected[st.name])) {
        bad(`${sw}: stored value ${JSON.stringify(st.results?.v)}, expected ${JSON.stringify(expected[st.name])}`);
      }
      for (let i = 0; i < claims.length; i++) {
        const c = claims[i];
        if (!c.close) bad(`${sw}: claim ${c.open.id} (attempt ${c.open.attempt}) never ended`);
        if ((c.open.attempt ?? 0) > 1) {
          // The previous lease ended in a failure (or lease expiry) of the previous attempt, or a release of this one.
          const prev = claims[i - 1]?.close;
          const justified =
            prev &&
            ((prev.to_state === 'error' && prev.attempt === c.open.attempt! - 1) || (prev.to_state === 'pending' && prev.attempt === c.open.attempt));
          if (!justified) bad(`${sw}: attempt ${c.open.attempt} claimed without a failure or lapsed lease of the one before`);
        }
      }

      // Executions: each belongs to one claim (same attempt and worker); no claim runs twice.
      const execs = execsByStep.get(`${task.id}/${st.name}`) ?? [];
      const perClaim = new Map<Claim, Execution[]>();
      for (const e of execs) {
        const mine = claims.filter((c) => c.open.attempt === e.attempt && c.open.actor === e.worker);
        // A worker never claims the same attempt of a step twice, but if it did, the latest claim before the start is the one.
        const claim = mine.filter((c) => c.open.at.getTime() <= e.started_at.getTime()).pop();
        if (!claim) {
          // Started before its own claim: while another attempt held the lease, or out of nowhere.
          const during = claims.find((c) => c.open.at.getTime() <= e.started_at.getTime() && (!c.close || e.started_at.getTime() < c.close.at.getTime()));
          bad(
            mine.length > 0 && during
              ? `${sw}: execution ${e.id} (attempt ${e.attempt}) started while attempt ${during.open.attempt} still held the lease`
              : `${sw}: execution ${e.id} (attempt ${e.attempt} by ${e.worker}) has no claim`,
          );
          continue;
        }
        perClaim.set(claim, [...(perClaim.get(claim) ?? []), e]);
        // 4. started after every earlier claim's lease ended
        for (const earlier of claims.slice(0, claims.indexOf(claim))) {
          if (earlier.close && e.started_at.getTime() < earlier.close.at.getTime()) {
            bad(`${sw}: execution ${e.id} (attempt ${e.attempt}) started while attempt ${earlier.open.attempt} still held the lease`);
          }
        }
        // 3. started after every parent completed
        for (const edge of parentsOf.get(`${task.id}/${st.name}`) ?? []) {
          const p = completeAt.get(edge.parent);
          if (!p || e.started_at.getTime() < p.at.getTime() || seq(claim.open) < seq(p)) {
            bad(`${sw}: execution ${e.id} started before its parent ${edge.parent} completed`);
          }
        }
        // 6. it saw exactly its parents' stored results
        const parents = (parentsOf.get(`${task.id}/${st.name}`) ?? []).map((edge) => edge.parent).sort();
        if (!isDeepStrictEqual(Object.keys(e.seen).sort(), parents)) bad(`${sw}: execution ${e.id} saw results of ${Object.keys(e.seen)}`);
        for (const p of parents) {
          const stored = steps.find((x) => x.name === p)?.results;
          if (!isDeepStrictEqual(e.seen[p], stored)) bad(`${sw}: execution ${e.id} saw ${JSON.stringify(e.seen[p])} of ${p}, stored ${JSON.stringify(stored)}`);
        }
        // A late finisher: it ended after its lease was taken away, without its result being stored.
        if (claim.close && claim.close.to_state !== 'complete' && e.ended_at && e.ended_at.getTime() >= claim.close.at.getTime()) {
          v.fencedLateFinishes++;
        }
      }
      for (const [claim, es] of perClaim) {
        if (es.length > 1) {
          v.duplicated++;
          bad(`${sw}: attempt ${claim.open.attempt} of ${claim.open.actor} was executed ${es.length} times`);
        }
      }
      const winner = claims.find((c) => c.close === done);
      const winnerExec = winner && perClaim.get(winner)?.[0];
      if (!winnerExec || !winnerExec.ended_at || winnerExec.ended_at.getTime() > done.at.getTime()) {
        bad(`${sw}: no execution of the completing attempt ${done.attempt} ended before the completion was recorded`);
      } else if (!isDeepStrictEqual(winnerExec.result, st.results)) {
        bad(`${sw}: the completing execution returned ${JSON.stringify(winnerExec.result)}, stored ${JSON.stringify(st.results)}`);
      }
      v.reexecutions += Math.max(0, execs.length - 1);
      if (st.lease_owner !== null) bad(`${sw}: still leased by ${st.lease_owner}`);
    }
    // The task completed after its last step did.
    const taskDone = taskChain.find((t) => t.to_state === 'complete');
    if (taskDone) {
      for (const [name, t] of completeAt) if (seq(t) > seq(taskDone)) bad(`${where}: completed before its step ${name}`);
    }
  }
  // Each idempotency key names exactly one task.
  const keys = group(
    h.tasks.filter((t) => t.idempotency_key),
    (t) => `${t.name}/${t.idempotency_key}`,
  );
  for (const [key, ts] of keys) if (ts.length > 1) bad(`idempotency key ${key} created ${ts.length} tasks`);
  return v;
}
