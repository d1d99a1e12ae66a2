-- A task still pending when its first outcome arrives (the claim that started its first attempt
-- could not lock it: someone else was changing it) starts now, with that outcome's actor.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._start_if_pending(p_task_id bigint, p_actor text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE t :TASKER_SCHEMA.tasks;
BEGIN
  SELECT * INTO t FROM :TASKER_SCHEMA.tasks WHERE id = p_task_id;
  IF t.state <> 'pending' THEN RETURN; END IF;
  UPDATE :TASKER_SCHEMA.tasks SET state = 'in_progress', updated_at = now() WHERE id = p_task_id;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._task_moved(t, 'in_progress', p_actor, NULL);
END $$;
