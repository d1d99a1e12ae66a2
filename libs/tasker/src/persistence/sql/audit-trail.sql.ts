/** Every transition of a task and its steps, in the order they happened (one shared sequence). */
export const auditTrailSql = (s: string) => `
SELECT id, task_id, NULL::text AS step_name, from_state, to_state, NULL::int AS attempt, actor, reason,
       NULL::jsonb AS error, created_at
  FROM ${s}.task_transitions WHERE task_id = $1
UNION ALL
SELECT id, task_id, step_name, from_state, to_state, attempt, actor, reason, error, created_at
  FROM ${s}.workflow_step_transitions WHERE task_id = $1
 ORDER BY id`;
