import type { TaskState } from '../state/states';
import { TransitionRow } from './rows';
import { TaskerDatabase } from './tasker-database';

export interface FailureGroupRow {
  namespace: string;
  name: string;
  version: string;
  step_name: string;
  code: string | null;
  message: string;
  count: number;
  task_ids: string[];
  first_at: Date;
  last_at: Date;
}

/** The queries of operating at scale: the failures inbox, bulk actions in batches, retention. */
export class OperationsRepository {
  constructor(private readonly db: TaskerDatabase) {}

  /**
   * Tasks in error by task type, step and error: its code, and its message as well when the code
   * says nothing of the cause (none, or only the error class's default). Reads only the
   * steps that failed for good (workflow_steps_failed_idx), whatever the size of the rest.
   */
  failures(namespace: string | null, name: string | null): Promise<FailureGroupRow[]> {
    const s = this.db.s;
    return this.db.query<FailureGroupRow>(
      `WITH f AS (
         SELECT t.namespace, t.name, t.version, coalesce(m.name, w.name) AS step_name,
                w.last_error->>'code' AS code, coalesce(w.last_error->>'message', '') AS message, t.id, w.updated_at AS at
           FROM ${s}.workflow_steps w
           JOIN ${s}.tasks t ON t.id = w.task_id
           LEFT JOIN ${s}.workflow_steps m ON m.id = w.map_step_id
          WHERE w.state = 'error' AND w.exhausted AND t.state = 'error'
            AND ($1::text IS NULL OR t.namespace = $1) AND ($2::text IS NULL OR t.name = $2)
       )
       SELECT namespace, name, version, step_name, code,
              (array_agg(message ORDER BY at DESC))[1] AS message,
              count(DISTINCT id)::int AS count,
              ((array_agg(DISTINCT id ORDER BY id DESC))[1:20])::text[] AS task_ids,
              min(at) AS first_at, max(at) AS last_at
         FROM f
        GROUP BY namespace, name, version, step_name, code, CASE WHEN code IS NULL OR code IN ('PERMANENT', 'RETRYABLE') THEN message END
        ORDER BY count DESC, last_at DESC, namespace, name, version, step_name`,
      [namespace, name],
    );
  }

  /**
   * The next tasks a bulk action may act on, ids ascending after `after`: in `states`, matching the
   * filter. No lock: the action locks and checks each one again.
   */
  async candidates(filter: string, states: readonly TaskState[], after: string, limit: number): Promise<string[]> {
    const s = this.db.s;
    // The columns a filter names are repeated outside _task_in_filter so that the plan can use
    // the tasks' indexes (state, type); the function has the whole rule.
    const rows = await this.db.query<{ id: string }>(
      `SELECT t.id FROM ${s}.tasks t, (SELECT $1::jsonb AS f) q
        WHERE t.state = ANY ($2::text[]) AND t.id > $3::bigint
          AND (q.f->'ids' IS NULL OR t.id = ANY (ARRAY(SELECT jsonb_array_elements_text(q.f->'ids')::bigint)))
          AND (q.f->>'namespace' IS NULL OR t.namespace = q.f->>'namespace')
          AND (q.f->>'name' IS NULL OR t.name = q.f->>'name')
          AND ${s}._task_in_filter(t, q.f)
        ORDER BY t.id
        LIMIT $4`,
      [filter, states, after, limit],
    );
    return rows.map((r) => r.id);
  }

  /** One batch of a bulk retry or cancellation (retry_tasks / cancel_tasks): the transitions it made. */
  act(action: 'retry' | 'cancel', ids: string[], filter: string, actor: string | null, reason: string | null, wait: boolean): Promise<TransitionRow[]> {
    const fn = action === 'retry' ? 'retry_tasks' : 'cancel_tasks';
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.${fn}($1::bigint[], $2::jsonb, $3, $4, $5)`, [ids, filter, actor, reason, wait]);
  }

  /** One batch of retention: how many tasks of each state it deleted. */
  async purge(before: Date, states: readonly TaskState[], limit: number): Promise<{ state: TaskState; purged: number }[]> {
    return this.db.query<{ state: TaskState; purged: number }>(`SELECT * FROM ${this.db.s}.purge_tasks($1, $2::text[], $3)`, [before, states, limit]);
  }
}
