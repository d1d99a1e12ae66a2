import type { EntityManager } from 'typeorm';
import { AuditRow, StepRow, TaskRow, TransitionRow } from './rows';
import { TaskerDatabase } from './tasker-database';

/** What create_tasks needs per task; the steps come from the registered definition. */
export interface NewTaskRow {
  namedTaskId: number;
  context: Record<string, unknown>;
  tags: string[];
  initiator?: string;
  sourceSystem?: string;
  reason?: string;
  idempotencyKey?: string;
  runAt?: string;
  /** Who created it, for the audit trail; defaults to the initiator. */
  actor?: string;
  /** W3C trace context of the creation (traceparent, tracestate). */
  traceContext?: Record<string, string>;
  priority?: number;
  concurrencyKey?: string;
}

export interface ListFilter {
  state?: string;
  namespace?: string;
  name?: string;
  tag?: string;
  beforeId?: string;
  limit: number;
  /** Contexts larger than this (as JSON text) come back as null: never read whole out of the table. */
  maxContextBytes?: number;
}

/** Tasks, their steps and history, and the operator actions on them. */
export class TaskRepository {
  constructor(private readonly db: TaskerDatabase) {}

  /** The tasks as created, in request order; `created` false: an idempotency key already used, the existing task. */
  async create(requests: NewTaskRow[], manager?: EntityManager): Promise<{ task: TaskRow; created: boolean }[]> {
    const rows = await this.db.query<TaskRow & { idx: number; created: boolean }>(
      `SELECT c.idx, c.created, (c.task).* FROM ${this.db.s}.create_tasks($1::jsonb) c`,
      [JSON.stringify(requests)],
      manager,
    );
    const out = new Array<{ task: TaskRow; created: boolean }>(requests.length);
    for (const { idx, created, ...task } of rows) out[idx - 1] = { task, created };
    return out;
  }

  getTasks(ids: string[], manager?: EntityManager): Promise<TaskRow[]> {
    return this.db.read<TaskRow>(`SELECT * FROM ${this.db.s}.tasks WHERE id = ANY ($1::bigint[])`, [ids], manager);
  }

  getSteps(taskId: string): Promise<StepRow[]> {
    // In topological order, with each step's dependencies and why it is (not) ready.
    return this.db.read<StepRow>(
      `SELECT w.*, r.ready, r.reason AS readiness_reason,
              coalesce((SELECT array_agg(p.name ORDER BY p.position)
                          FROM ${this.db.s}.workflow_step_edges e JOIN ${this.db.s}.workflow_steps p ON p.id = e.from_step_id
                         WHERE e.to_step_id = w.id), '{}') AS depends_on,
              (SELECT m.name FROM ${this.db.s}.workflow_steps m WHERE m.id = w.map_step_id) AS map_of,
              CASE WHEN w.map_total IS NOT NULL THEN (
                SELECT jsonb_build_object('total', count(*),
                         'done', count(*) FILTER (WHERE i.state IN ('complete', 'resolved_manually', 'skipped')),
                         'running', count(*) FILTER (WHERE i.state IN ('in_progress', 'waiting')),
                         'failed', count(*) FILTER (WHERE i.state = 'error' AND i.exhausted))
                  FROM ${this.db.s}.workflow_steps i WHERE i.map_step_id = w.id) END AS instances
         FROM ${this.db.s}.workflow_steps w JOIN ${this.db.s}.step_readiness($1) r ON r.step_id = w.id
        WHERE w.task_id = $1
        ORDER BY w.position, w.map_index NULLS FIRST`,
      [taskId],
    );
  }

  list(f: ListFilter): Promise<TaskRow[]> {
    // Newest first; each filter is served by an index (state, type, tags GIN: only tasks with tags are in it).
    return this.db.read<TaskRow>(
      // The stored size first, known without reading a toasted value: jsonb never takes 8 times the
      // room of its text, so a context stored in more is over the bound unread; only the others are
      // read (compressed, at most 8 times the bound) to measure their text.
      `SELECT id, named_task_id, namespace, name, version, state, tags, initiator, source_system, reason, idempotency_key,
              run_at, created_at, updated_at, completed_at, parent_task_id, parent_step_name, priority,
              CASE WHEN $7::int IS NULL THEN context
                   WHEN pg_column_size(context) > 8::bigint * $7 THEN NULL
                   WHEN octet_length(context::text) > $7 THEN NULL
                   ELSE context END AS context
         FROM ${this.db.s}.tasks
        WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR namespace = $2) AND ($3::text IS NULL OR name = $3)
          AND ($4::text IS NULL OR (tags @> ARRAY[$4::text] AND tags <> '{}')) AND ($5::bigint IS NULL OR id < $5)
        ORDER BY id DESC
        LIMIT $6`,
      [
      f.state ?? null,
      f.namespace ?? null,
      f.name ?? null,
      f.tag ?? null,
      f.beforeId ?? null,
      f.limit,
      f.maxContextBytes ?? null,
    ]);
  }

  auditTrail(taskId: string): Promise<AuditRow[]> {
    // Every transition shares one sequence: ordering by id is the order things happened.
    return this.db.read<AuditRow>(
      `SELECT id, task_id, step_name, from_state, to_state, attempt, actor, reason, error, created_at
         FROM ${this.db.s}.transitions WHERE task_id = $1
        ORDER BY id`,
      [taskId],
    );
  }

  retry(taskId: string, actor: string | null, reason: string | null): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.retry_task($1, $2, $3)`, [taskId, actor, reason]);
  }

  cancel(taskId: string, actor: string | null, reason: string | null): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.cancel_task($1, $2, $3)`, [taskId, actor, reason]);
  }

  signal(taskId: string, name: string, payload: string, actor: string | null, reason: string | null) {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.signal_task($1, $2, $3::jsonb, $4, $5)`, [taskId, name, payload, actor, reason]);
  }

  resolveStep(taskId: string, stepName: string, results: string, actor: string | null, reason: string | null) {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.resolve_step($1, $2, $3::jsonb, $4, $5)`, [taskId, stepName, results, actor, reason]);
  }
}
