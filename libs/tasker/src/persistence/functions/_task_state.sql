-- Where a task's counters put it, the one rule that settles a task: complete when every step is
-- done; error when a step failed for good and nothing can run (p_runnable false); back to
-- in_progress when work became possible again for a task in error (p_runnable true). p_runnable
-- NULL: not known to the caller, so neither of the last two moves is made. Finished tasks stay.
-- A plain expression, so the planner inlines it into the statements that call it.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._task_state(p_state text, p_done int, p_total int, p_failed int, p_runnable boolean)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_state IN ('complete', 'cancelled', 'resolved_manually') THEN p_state
    WHEN p_done = p_total THEN 'complete'
    WHEN p_runnable IS TRUE AND p_state = 'error' THEN 'in_progress'
    WHEN p_runnable IS FALSE AND p_failed > 0 THEN 'error'
    ELSE p_state
  END
$$;
