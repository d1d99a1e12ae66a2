-- Records one transition of task t (from t.state to p_to) and returns it as an event. A child task
-- that settles hands the wait back to its parent's step (_child_settled).
-- PL/pgSQL, not SQL: its INSERT's plan is cached per session instead of planned on every call.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._task_moved(t :TASKER_SCHEMA.tasks, p_to text, p_actor text, p_reason text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  RETURN QUERY
  INSERT INTO :TASKER_SCHEMA.task_transitions (task_id, from_state, to_state, actor, reason)
  VALUES (t.id, t.state, p_to, p_actor, p_reason)
  RETURNING 'task'::text, id, task_id, t.name, t.namespace, t.version, NULL::bigint, NULL::text,
            from_state, to_state, NULL::int, actor, reason, NULL::jsonb, NULL::timestamptz, NULL::int, created_at,
            t.created_at, t.trace_context;
  IF t.parent_step_id IS NOT NULL AND p_to IN ('complete', 'error', 'cancelled') THEN
    PERFORM :TASKER_SCHEMA._child_settled(ARRAY[t.parent_step_id]);
  END IF;
END $$;
