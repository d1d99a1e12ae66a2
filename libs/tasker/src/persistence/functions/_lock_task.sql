-- Locks a task for an operator action (the task row first, the lock order of every path), or fails
-- with TK404 when it does not exist.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._lock_task(p_task_id bigint)
RETURNS :TASKER_SCHEMA.tasks LANGUAGE plpgsql AS $$
DECLARE t :TASKER_SCHEMA.tasks;
BEGIN
  SELECT * INTO t FROM :TASKER_SCHEMA.tasks WHERE id = p_task_id FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'task % does not exist', p_task_id USING ERRCODE = 'TK404'; END IF;
  RETURN t;
END $$;
