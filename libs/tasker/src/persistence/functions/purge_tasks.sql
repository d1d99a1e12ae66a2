-- Retention: deletes up to p_limit tasks in p_states (finished ones only) that finished before
-- p_before, oldest first, with everything that hangs off them (the tasks_deleted trigger: steps,
-- edges, both audit trails, signals). A task another transaction holds is passed over (the next
-- batch takes it), and so is a cancelled task whose attempt is still running: its worker records
-- the attempt's end when it returns. Two sweeps at once delete each task once. Returns how many
-- tasks of each state it deleted. Without JIT: the plan's guess of how many rows a batch takes
-- (the limit is a parameter) made Postgres compile it, at many times the cost of the batch itself.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.purge_tasks(p_before timestamptz, p_states text[], p_limit int)
RETURNS TABLE (state text, purged int) LANGUAGE sql SET jit = off AS $$
  WITH picked AS (
    SELECT t.id FROM :TASKER_SCHEMA.tasks t
     WHERE t.state IN ('complete', 'cancelled', 'resolved_manually') AND t.state = ANY (p_states)
       AND t.completed_at < p_before
       AND NOT (t.state = 'cancelled' AND EXISTS (
         SELECT 1 FROM :TASKER_SCHEMA.workflow_steps w WHERE w.task_id = t.id AND w.state = 'in_progress'))
     ORDER BY t.completed_at
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED
  ), gone AS (
    DELETE FROM :TASKER_SCHEMA.tasks t USING picked WHERE t.id = picked.id RETURNING t.state
  )
  SELECT gone.state, count(*)::int FROM gone GROUP BY gone.state
$$;
