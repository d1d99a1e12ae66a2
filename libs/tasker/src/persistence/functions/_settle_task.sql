-- Moves the (locked) task to where its steps say it is (_task_state). Whether any step can still
-- move (run, or end a wait) is only looked up when a step failed for good or the task is in error: the common case
-- (nothing failed) costs no scan of the task's steps.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._settle_task(p_task_id bigint, p_actor text, p_reason text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t :TASKER_SCHEMA.tasks;
  v_runnable boolean;
  v_to text;
BEGIN
  SELECT * INTO t FROM :TASKER_SCHEMA.tasks WHERE id = p_task_id;
  IF t.steps_failed > 0 OR t.state = 'error' THEN
    v_runnable := EXISTS (
      SELECT 1 FROM :TASKER_SCHEMA.workflow_steps w
       WHERE w.task_id = p_task_id
         -- (a map step's wait moves only as its instances do: they count, not it)
         AND (w.state = 'in_progress' OR w.state = 'waiting' AND w.wait->>'kind' <> 'map'
              OR (w.state IN ('pending', 'error') AND NOT w.exhausted AND w.parents_done = w.parents_total)));
  END IF;
  v_to := :TASKER_SCHEMA._task_state(t.state, t.steps_done, t.steps_total, t.steps_failed, v_runnable);
  -- A task with a concurrency key gave its slot back when it left in_progress: it goes on as a task
  -- not yet started, and a claim takes a slot for it again.
  IF v_to = 'in_progress' AND t.state = 'error' AND t.slot_key IS NOT NULL THEN v_to := 'pending'; END IF;
  IF v_to = t.state THEN RETURN; END IF;
  UPDATE :TASKER_SCHEMA.tasks SET state = v_to, updated_at = now(),
         completed_at = CASE WHEN v_to = 'complete' THEN now() ELSE NULL END
   WHERE id = p_task_id;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._task_moved(t, v_to, p_actor, p_reason);
END $$;
