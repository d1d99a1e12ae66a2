-- Locks a running attempt for its outcome: its task first (the lock order of every path), then the
-- step, fenced by the lease token. No row: the step is gone, or the lease was lost and the step
-- claimed again, so the outcome must be discarded.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._lock_attempt(p_step_id bigint, p_token uuid, OUT t :TASKER_SCHEMA.tasks, OUT w :TASKER_SCHEMA.workflow_steps)
RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
  SELECT x.* INTO t FROM :TASKER_SCHEMA.tasks x JOIN :TASKER_SCHEMA.workflow_steps y ON y.task_id = x.id
   WHERE y.id = p_step_id FOR UPDATE OF x;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT * INTO w FROM :TASKER_SCHEMA.workflow_steps
   WHERE id = p_step_id AND lease_token = p_token AND state = 'in_progress' FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  RETURN NEXT;
END $$;
