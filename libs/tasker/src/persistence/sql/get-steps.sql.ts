/** A task's steps with their dependencies and readiness, in topological order. */
export const getStepsSql = (s: string) => `
SELECT w.*, r.ready, r.reason AS readiness_reason,
       coalesce((SELECT array_agg(p.name ORDER BY p.position)
                   FROM ${s}.workflow_step_edges e JOIN ${s}.workflow_steps p ON p.id = e.from_step_id
                  WHERE e.to_step_id = w.id), '{}') AS depends_on
  FROM ${s}.workflow_steps w JOIN ${s}.step_readiness($1) r ON r.step_id = w.id
 WHERE w.task_id = $1
 ORDER BY w.position`;
