-- Gives back an attempt that a stopping worker did not finish (or whose claim it never received):
-- the step is ready again at once and the attempt is not counted. In a cancelled task the step is
-- cancelled instead.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.release_step(p_step_id bigint, p_token uuid, p_reason text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE a record;
BEGIN
  FOR a IN SELECT * FROM :TASKER_SCHEMA._lock_attempt(p_step_id, p_token) LOOP
    IF (a.t).state = 'cancelled' THEN
      RETURN QUERY SELECT * FROM :TASKER_SCHEMA._record_failure(
        a.t, a.w, jsonb_build_object('name', 'WorkerShutdown', 'message', p_reason), NULL, NULL);
      RETURN;
    END IF;
    UPDATE :TASKER_SCHEMA.workflow_steps SET state = 'pending', attempts = greatest(attempts - 1, 0), available_at = now(),
           updated_at = now(), lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
     WHERE id = (a.w).id;
    PERFORM :TASKER_SCHEMA._wake('');
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(a.t, (a.w).id, (a.w).name, 'in_progress', 'pending', (a.w).attempts,
                                                          (a.w).lease_owner, p_reason, NULL, NULL, NULL);
  END LOOP;
END $$;
