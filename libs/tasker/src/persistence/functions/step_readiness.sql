-- Why each step of a task is or is not ready, as the claim would see it now (the same conditions
-- as claim_steps' pick, explained), in the task's step order.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.step_readiness(p_task_id bigint)
RETURNS TABLE (step_id bigint, step_name text, state text, ready boolean, reason text, parents_done int,
               parents_total int, attempts int, retry_limit int, available_at timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT w.id, w.name, w.state,
         r.reason = 'ready', r.reason, w.parents_done, w.parents_total, w.attempts, w.retry_limit, w.available_at
    FROM :TASKER_SCHEMA.workflow_steps w
    JOIN :TASKER_SCHEMA.tasks t ON t.id = w.task_id
   CROSS JOIN LATERAL (SELECT CASE
           WHEN w.state IN ('complete', 'resolved_manually') THEN 'done'
           WHEN w.state = 'cancelled' THEN 'cancelled'
           WHEN w.state = 'in_progress' THEN 'running'
           WHEN w.exhausted THEN 'attempts_exhausted'
           WHEN t.state IN ('cancelled', 'complete', 'resolved_manually') THEN 'task_finished'
           WHEN w.parents_done < w.parents_total THEN 'waiting_for_dependencies'
           WHEN w.available_at > now() AND w.state = 'error' THEN 'waiting_for_retry'
           WHEN w.available_at > now() THEN 'not_before_run_at'
           ELSE 'ready' END AS reason) r
   WHERE w.task_id = p_task_id
   ORDER BY w.position
$$;
