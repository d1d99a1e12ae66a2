-- Extends the leases of running attempts; returns the tokens still owned (a missing one was lost:
-- its attempt expired and may run elsewhere).
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.renew_leases(p_tokens uuid[], p_lease_ms int)
RETURNS SETOF uuid LANGUAGE sql AS $$
  UPDATE :TASKER_SCHEMA.workflow_steps SET lease_expires_at = now() + p_lease_ms * interval '1 millisecond'
   WHERE lease_token = ANY (p_tokens) AND state = 'in_progress'
  RETURNING lease_token
$$;
