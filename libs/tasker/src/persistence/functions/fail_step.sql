-- Stores a failed attempt (fenced by its lease token); p_retry_at NULL: no retry.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.fail_step(p_step_id bigint, p_token uuid, p_error jsonb, p_retry_at timestamptz)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE a record;
BEGIN
  FOR a IN SELECT * FROM :TASKER_SCHEMA._lock_attempt(p_step_id, p_token) LOOP
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._record_failure(a.t, a.w, p_error, p_retry_at, NULL);
  END LOOP;
END $$;
