-- Delivers signal s to the waiting step p_step_id of task t (locked): the step completes with the
-- signal's payload as its results; the sender is the actor of that transition.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._deliver_signal(t :TASKER_SCHEMA.tasks, p_step_id bigint, s :TASKER_SCHEMA.signals)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
BEGIN
  UPDATE :TASKER_SCHEMA.signals SET delivered_at = coalesce(delivered_at, now()), step_id = coalesce(step_id, p_step_id)
   WHERE task_id = s.task_id AND name = s.name;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._complete_waiting(t, p_step_id, s.payload, s.actor,
                                                               CASE WHEN s.reason IS NULL THEN format('signal "%s"', s.name) ELSE format('signal "%s": %s', s.name, s.reason) END);
END $$;
