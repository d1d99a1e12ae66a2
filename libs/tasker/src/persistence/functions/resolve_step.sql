-- Operator: marks a pending, failed or waiting step done with the given results; it counts as
-- complete for its dependents, which become ready, and the task settles. A map step waiting for its
-- instances is not resolved itself: its failed instances are.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.resolve_step(p_task_id bigint, p_step_name text, p_results jsonb, p_actor text, p_reason text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t :TASKER_SCHEMA.tasks := :TASKER_SCHEMA._lock_task(p_task_id);
  w :TASKER_SCHEMA.workflow_steps;
  v_failed boolean;   -- the step had failed for good (it counted as failed; its place, if an instance, was freed)
BEGIN
  SELECT * INTO w FROM :TASKER_SCHEMA.workflow_steps WHERE task_id = t.id AND name = p_step_name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Task % has no step named "%".', p_task_id, p_step_name USING ERRCODE = 'TK405';
  END IF;
  IF t.state IN ('complete', 'cancelled', 'resolved_manually') THEN
    RAISE EXCEPTION 'Task % is %; its steps can no longer be resolved.', p_task_id, t.state
      USING ERRCODE = 'TK409', DETAIL = t.state;
  END IF;
  IF w.state NOT IN ('pending', 'error', 'waiting') OR w.wait->>'kind' = 'map' AND w.state = 'waiting' THEN
    RAISE EXCEPTION 'Step "%" of task % is %; only a pending, failed or waiting step can be resolved%.', p_step_name, p_task_id,
      CASE WHEN w.state = 'waiting' THEN 'waiting for its instances' ELSE w.state END,
      CASE WHEN w.state = 'waiting' THEN ' (resolve its failed instances instead)' ELSE '' END
      USING ERRCODE = 'TK409', DETAIL = w.state;
  END IF;
  v_failed := w.state = 'error' AND w.exhausted;
  UPDATE :TASKER_SCHEMA.workflow_steps SET state = 'resolved_manually', results = p_results, exhausted = false,
         completed_at = now(), updated_at = now()
   WHERE id = w.id;
  UPDATE :TASKER_SCHEMA.tasks SET steps_done = steps_done + 1,
         steps_failed = steps_failed - CASE WHEN v_failed THEN 1 ELSE 0 END,
         updated_at = now()
   WHERE id = t.id;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(t, w.id, w.name, w.state, 'resolved_manually', NULLIF(w.attempts, 0), p_actor,
                                                        p_reason, NULL, NULL, NULL);
  IF (SELECT p.ready FROM :TASKER_SCHEMA._parents_done(ARRAY[w.id], false) p) THEN PERFORM :TASKER_SCHEMA._wake(''); END IF;
  IF w.map_step_id IS NOT NULL THEN
    -- It counts towards its map step; it frees a place only if it held one (a failed one gave it back).
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._instances_finished(t, ARRAY[w.id], true,
                                                                  NOT v_failed AND w.parents_done = w.parents_total);
  END IF;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._settle_task(t.id, p_actor, p_reason);
END $$;
