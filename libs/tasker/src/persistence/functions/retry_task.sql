-- Operator: runs the failed steps of a task in error again, each with a fresh attempt budget;
-- completed steps never run again.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.retry_task(p_task_id bigint, p_actor text, p_reason text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t :TASKER_SCHEMA.tasks := :TASKER_SCHEMA._lock_task(p_task_id);
  r record;
BEGIN
  IF t.state <> 'error' THEN
    RAISE EXCEPTION 'Task % is %; only a task in error can be retried.', p_task_id, t.state
      USING ERRCODE = 'TK409', DETAIL = t.state;
  END IF;
  UPDATE :TASKER_SCHEMA.tasks SET state = 'pending', steps_failed = 0, updated_at = now(), completed_at = NULL WHERE id = t.id;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._task_moved(t, 'pending', p_actor, p_reason);
  FOR r IN UPDATE :TASKER_SCHEMA.workflow_steps SET state = 'pending', attempts = 0, exhausted = false, available_at = now(),
                  updated_at = now()
            WHERE task_id = t.id AND state = 'error'
           RETURNING id, name LOOP
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(t, r.id, r.name, 'error', 'pending', NULL, p_actor, p_reason, NULL, NULL, NULL);
  END LOOP;
  PERFORM :TASKER_SCHEMA._wake('');
END $$;
