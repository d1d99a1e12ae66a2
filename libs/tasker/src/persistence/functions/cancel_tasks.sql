-- Operator, in bulk: one batch of a bulk cancellation. Each task (ids ascending) not finished yet and
-- still matching the filter is cancelled by cancel_task, with its own audit entries (its unfinished
-- children with it). Without p_wait a task that another transaction holds at this moment is passed
-- over rather than waited for; the caller offers it again on its own, with p_wait.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.cancel_tasks(p_ids bigint[], p_filter jsonb, p_actor text, p_reason text, p_wait boolean)
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
    CONTINUE WHEN NOT FOUND OR t.state IN ('complete', 'cancelled', 'resolved_manually')
                  OR NOT :TASKER_SCHEMA._task_in_filter(t, p_filter);
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA.cancel_task(v_id, p_actor, p_reason);
  END LOOP;
END $$;
