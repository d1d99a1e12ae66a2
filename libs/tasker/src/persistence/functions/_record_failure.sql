-- Records a failed attempt of step w, locked together with its task t. p_retry_at: when the step
-- may run again; NULL: never (the step is exhausted and counts as failed for its task). A failed
-- attempt of a cancelled task cancels the step instead. p_actor NULL: the worker that ran it.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._record_failure(t :TASKER_SCHEMA.tasks, w :TASKER_SCHEMA.workflow_steps, p_error jsonb,
                                                          p_retry_at timestamptz, p_actor text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  v_duration int := (extract(epoch FROM clock_timestamp() - w.started_at) * 1000)::int;
BEGIN
  IF t.state = 'cancelled' THEN
    UPDATE :TASKER_SCHEMA.workflow_steps SET state = 'cancelled', last_error = p_error, completed_at = now(), updated_at = now(),
           lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
     WHERE id = w.id;
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(t, w.id, w.name, 'in_progress', 'cancelled', w.attempts,
                                                          coalesce(p_actor, w.lease_owner), 'task cancelled', p_error, NULL, v_duration);
    RETURN;
  END IF;
  UPDATE :TASKER_SCHEMA.workflow_steps SET state = 'error', last_error = p_error, exhausted = (p_retry_at IS NULL),
         available_at = coalesce(p_retry_at, available_at), updated_at = now(),
         lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
   WHERE id = w.id;
  IF p_retry_at IS NULL THEN
    UPDATE :TASKER_SCHEMA.tasks SET steps_failed = steps_failed + 1, updated_at = now() WHERE id = t.id;
    -- A failed instance no longer holds its map step's place: the next instance gets it.
    IF w.map_step_id IS NOT NULL THEN
      RETURN QUERY SELECT * FROM :TASKER_SCHEMA._instances_finished(t, ARRAY[w.id], false, true);
    END IF;
  END IF;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._start_if_pending(t.id, w.lease_owner);
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(t, w.id, w.name, 'in_progress', 'error', w.attempts,
                                                        coalesce(p_actor, w.lease_owner), NULL, p_error, p_retry_at, v_duration);
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._settle_task(t.id, NULL, NULL);
END $$;
