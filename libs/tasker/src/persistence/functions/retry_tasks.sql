-- Operator, in bulk: one batch of a bulk retry. Each task (ids ascending) still in error and still
-- matching the filter is retried by retry_task, with its own audit entries. Without p_wait a task
-- that another transaction holds at this moment is passed over rather than waited for, so a batch
-- never queues behind workers; the caller offers it again on its own, with p_wait.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.retry_tasks(p_ids bigint[], p_filter jsonb, p_actor text, p_reason text, p_wait boolean)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
  t :TASKER_SCHEMA.tasks;
BEGIN
  FOREACH v_id IN ARRAY p_ids LOOP
    IF p_wait THEN
      SELECT * INTO t FROM :TASKER_SCHEMA.tasks WHERE id = v_id FOR UPDATE;
    ELSE
      SELECT * INTO t FROM :TASKER_SCHEMA.tasks WHERE id = v_id FOR UPDATE SKIP LOCKED;
    END IF;
    CONTINUE WHEN NOT FOUND OR t.state <> 'error' OR NOT :TASKER_SCHEMA._task_in_filter(t, p_filter);
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA.retry_task(v_id, p_actor, p_reason);
  END LOOP;
END $$;
