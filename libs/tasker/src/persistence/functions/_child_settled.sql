-- A child task reached a settled state (complete, error, cancelled): the step of its parent task
-- that waits for it is ready again at once, and its worker records the child's outcome. Only the
-- parent's step row is touched, not the parent task: the child's locks never wait for its parent's.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._child_settled(p_parent_step_ids bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE :TASKER_SCHEMA.workflow_steps SET available_at = now(), updated_at = now()
   WHERE id = ANY (p_parent_step_ids) AND state = 'waiting';
  IF FOUND THEN PERFORM :TASKER_SCHEMA._wake(''); END IF;
END $$;
