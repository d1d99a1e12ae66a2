/** Row shapes returned by Tasker's SQL and their mapping to the public views. */
import type { AuditEntry, StepView, TaskView } from '../interfaces/views.interface';
import type { StepState, TaskState } from '../state/states';

export interface TaskRow {
  id: string;
  named_task_id: number;
  namespace: string;
  name: string;
  version: string;
  state: TaskState;
  context: Record<string, unknown>;
  tags: string[];
  initiator: string | null;
  source_system: string | null;
  reason: string | null;
  idempotency_key: string | null;
  run_at: Date | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  parent_task_id: string | null;
  parent_step_name: string | null;
  priority: number;
}

export interface StepRow {
  id: string;
  task_id: string;
  name: string;
  state: StepState;
  attempts: number;
  retry_limit: number;
  retryable: boolean;
  exhausted: boolean;
  timeout_ms: number | null;
  parents_total: number;
  parents_done: number;
  available_at: Date;
  results: unknown;
  last_error: StepView['lastError'];
  started_at: Date | null;
  completed_at: Date | null;
  depends_on: string[];
  ready: boolean;
  readiness_reason: string;
  wait: Record<string, unknown> | null;
  map_of: string | null;
  map_index: number | null;
  instances: { total: number; done: number; running: number; failed: number } | null;
}

/**
 * One transition as the engine's functions return it (the composite type transition_event). Kind
 * `signal`: a signal a task received (step_name is the signal's name), not a state change.
 */
export interface TransitionRow {
  kind: 'task' | 'step' | 'signal';
  transition_id: string;
  task_id: string;
  task_name: string;
  namespace: string;
  version: string;
  step_id: string | null;
  step_name: string | null;
  from_state: StepState | null;
  to_state: StepState;
  attempt: number | null;
  actor: string | null;
  reason: string | null;
  error: { name: string; message: string; code?: string } | null;
  next_retry_at: Date | null;
  duration_ms: number | null;
  at: Date;
  task_created_at: Date;
  trace_context: Record<string, string> | null;
}

export interface ClaimRow {
  step_id: string;
  task_id: string;
  step_name: string;
  attempt: number;
  retry_limit: number;
  retryable: boolean;
  timeout_ms: number | null;
  backoff: { baseMs: number; maxMs: number; jitter: number | boolean };
  lease_token: string;
  claimed_at: Date;
  task_name: string;
  namespace: string;
  version: string;
  task_state: TaskState;
  context: Record<string, unknown>;
  tags: string[];
  parent_results: Record<string, unknown>;
  trace_context: Record<string, string> | null;
  /** An instance of a map step: its item's position, and the item. */
  map_index: number | null;
  item: unknown;
  /** A waiting step taken back because its wait can end: what it waited for (and, for a child, how the child ended). */
  resume:
    | { kind: 'sleep'; until: string }
    | { kind: 'signal'; name: string; timeoutMs: number; until: string }
    | { kind: 'child'; taskId: string; state: TaskState; results: Record<string, unknown> }
    | null;
  /** The attempt's start as this claim recorded it in the audit trail: its transition's id, the state it left, when. */
  start_id: string;
  start_from: StepState;
  start_at: Date;
  /** The task's start, when this claim started the task (null otherwise): its transition's id, when. */
  task_start_id: string | null;
  task_start_at: Date | null;
  task_created_at: Date;
}

export interface AuditRow {
  id: string;
  task_id: string;
  step_name: string | null;
  from_state: StepState | null;
  to_state: StepState;
  attempt: number | null;
  actor: string | null;
  reason: string | null;
  error: { name: string; message: string; code?: string } | null;
  created_at: Date;
}

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));

/** A transition as JSON (ids already as text). */
export function transitionFromJson(j: Record<string, unknown>): TransitionRow {
  // In place: the object was just parsed and is the caller's alone (a copy per transition was garbage).
  j.at = date(j.at);
  j.task_created_at = date(j.task_created_at);
  j.next_retry_at = date(j.next_retry_at);
  return j as unknown as TransitionRow;
}

/** A claim as JSON (ids already as text). */
export function claimFromJson(j: Record<string, unknown>): ClaimRow {
  j.claimed_at = date(j.claimed_at);
  j.start_at = date(j.start_at);
  j.task_start_at = date(j.task_start_at);
  j.task_created_at = date(j.task_created_at);
  return j as unknown as ClaimRow;
}

/**
 * Completes the transitions a statement returned without their task's fields (complete_steps: the
 * batch's own steps and tasks) from the claims of the attempts it stored. In place; returns `rows`.
 */
export function withTaskFields(rows: TransitionRow[], claims: readonly ClaimRow[]): TransitionRow[] {
  let byTask: Map<string, ClaimRow> | undefined;
  for (const r of rows) {
    if (r.task_name !== null) continue;
    if (!byTask) {
      byTask = new Map();
      for (const c of claims) byTask.set(String(c.task_id), c);
    }
    const c = byTask.get(String(r.task_id));
    if (!c) continue;
    r.task_name = c.task_name;
    r.namespace = c.namespace;
    r.version = c.version;
    r.task_created_at = c.task_created_at;
    r.trace_context = c.trace_context;
  }
  return rows;
}

/** The transition a claim recorded for its attempt's start, as the audit trail holds it. */
export function attemptStartOf(c: ClaimRow, owner: string): TransitionRow {
  return {
    kind: 'step', transition_id: c.start_id, task_id: c.task_id, task_name: c.task_name, namespace: c.namespace, version: c.version,
    step_id: c.step_id, step_name: c.step_name, from_state: c.start_from, to_state: 'in_progress', attempt: c.attempt, actor: owner,
    reason: null, error: null, next_retry_at: null, duration_ms: null, at: c.start_at, task_created_at: c.task_created_at, trace_context: c.trace_context,
  };
}

/** The transition a claim recorded when it started the task of `c` (task_start_id set). */
export function taskStartOf(c: ClaimRow, owner: string): TransitionRow {
  return {
    kind: 'task', transition_id: c.task_start_id as string, task_id: c.task_id, task_name: c.task_name, namespace: c.namespace, version: c.version,
    step_id: null, step_name: null, from_state: 'pending', to_state: 'in_progress', attempt: null, actor: owner,
    reason: null, error: null, next_retry_at: null, duration_ms: null, at: c.task_start_at as Date, task_created_at: c.task_created_at, trace_context: c.trace_context,
  };
}

function optional<T>(v: T | null): T | undefined {
  return v === null ? undefined : v;
}

export function toTaskView(r: TaskRow): TaskView {
  return {
    id: String(r.id),
    name: r.name,
    namespace: r.namespace,
    version: r.version,
    state: r.state,
    // null only from a list with maxContextBytes: the column itself is never null.
    context: r.context ?? {},
    ...(r.context === null ? { contextTruncated: true as const } : {}),
    tags: r.tags,
    initiator: optional(r.initiator),
    sourceSystem: optional(r.source_system),
    reason: optional(r.reason),
    idempotencyKey: optional(r.idempotency_key),
    runAt: r.run_at,
    priority: r.priority ?? 0,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    completedAt: r.completed_at,
    ...(r.parent_task_id !== null && r.parent_task_id !== undefined
      ? { parentTaskId: String(r.parent_task_id), parentStepName: r.parent_step_name ?? undefined }
      : {}),
  };
}

export function toStepView(r: StepRow): StepView {
  const waitingForRetry = r.state === 'error' && !r.exhausted;
  // A map step's state is its instances': in error as soon as one failed for good.
  const state = r.instances && r.state === 'waiting' && r.instances.failed > 0 ? 'error' : r.state;
  return {
    id: String(r.id),
    name: r.name,
    state,
    dependsOn: r.depends_on,
    attempts: r.attempts,
    retryLimit: r.retry_limit,
    retryable: r.retryable,
    timeoutMs: r.timeout_ms,
    results: r.results ?? undefined,
    lastError: r.last_error ?? null,
    nextRetryAt: waitingForRetry ? r.available_at : null,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    durationMs: r.started_at && r.completed_at ? r.completed_at.getTime() - r.started_at.getTime() : null,
    readiness: {
      ready: r.ready,
      reason: r.readiness_reason,
      parentsDone: r.parents_done,
      parentsTotal: r.parents_total,
      attempts: r.attempts,
      retryLimit: r.retry_limit,
      // A step held back with no time (a concurrency limit, a wait for a signal or a child) is ready at no known time.
      availableAt: r.available_at instanceof Date && Number.isFinite(r.available_at.getTime()) ? r.available_at : null,
    },
    ...(r.map_of !== null ? { mapOf: r.map_of, mapIndex: r.map_index as number } : {}),
    ...(r.instances ? { instances: r.instances } : {}),
    ...(r.state === 'waiting' && r.wait ? { waitingFor: waitingFor(r.wait, r.available_at) } : {}),
    ...(r.wait?.kind === 'child' ? { childTaskId: String(r.wait.taskId) } : {}),
  };
}

function waitingFor(wait: Record<string, unknown>, availableAt: Date): NonNullable<StepView['waitingFor']> {
  switch (wait.kind) {
    case 'signal':
      return { kind: 'signal', name: String(wait.name), ...(wait.until ? { until: new Date(String(wait.until)) } : {}) };
    case 'child':
      return { kind: 'child', taskId: String(wait.taskId) };
    case 'sleep':
      return { kind: 'sleep', until: availableAt };
    default:
      return { kind: 'map' };
  }
}

export function toAuditEntry(r: AuditRow): AuditEntry {
  const e: AuditEntry = { taskId: String(r.task_id), stepName: r.step_name, from: r.from_state, to: r.to_state, at: r.created_at };
  if (r.attempt !== null) e.attempt = r.attempt;
  if (r.actor !== null) e.actor = r.actor;
  if (r.reason !== null) e.reason = r.reason;
  e.error = r.error ? { name: r.error.name, message: r.error.message, ...(r.error.code ? { code: r.error.code } : {}) } : null;
  return e;
}
