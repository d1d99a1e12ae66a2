-- Completes a waiting step of task t (locked) with these results (its signal arrived, its map
-- instances all finished), and what follows: counters, dependents, its map step if it is an
-- instance, the task's settlement.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._complete_waiting(t :TASKER_SCHEMA.tasks, p_step_id bigint, p_results jsonb, p_actor text, p_reason text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  w :TASKER_SCHEMA.workflow_steps;
BEGIN
  UPDATE :TASKER_SCHEMA.workflow_steps SET state = 'complete', results = p_results, completed_at = now(), updated_at = now()
   WHERE id = p_step_id AND state = 'waiting'
  RETURNING * INTO w;
  IF NOT FOUND THEN RETURN; END IF;
  UPDATE :TASKER_SCHEMA.tasks SET steps_done = steps_done + 1, updated_at = now() WHERE id = t.id;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(t, w.id, w.name, 'waiting', 'complete', w.attempts, p_actor, p_reason, NULL, NULL, NULL);
  IF (SELECT p.ready FROM :TASKER_SCHEMA._parents_done(ARRAY[w.id], false) p) THEN PERFORM :TASKER_SCHEMA._wake(''); END IF;
  IF w.map_step_id IS NOT NULL THEN
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._instances_finished(t, ARRAY[w.id], true, true);
  END IF;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._settle_task(t.id, NULL, NULL);
END $$;
