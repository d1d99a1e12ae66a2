-- Records one transition of a step of task t and returns it as an event.
-- PL/pgSQL, not SQL: its INSERT's plan is cached per session instead of planned on every call.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._step_moved(t :TASKER_SCHEMA.tasks, p_step_id bigint, p_step_name text, p_from text, p_to text,
                                                      p_attempt int, p_actor text, p_reason text, p_error jsonb,
                                                      p_next_retry_at timestamptz, p_duration_ms int)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  RETURN QUERY
  INSERT INTO :TASKER_SCHEMA.workflow_step_transitions
    (task_id, step_id, step_name, from_state, to_state, attempt, actor, reason, error, next_retry_at, duration_ms)
  VALUES (t.id, p_step_id, p_step_name, p_from, p_to, p_attempt, p_actor, p_reason, p_error, p_next_retry_at, p_duration_ms)
  RETURNING 'step'::text, id, task_id, t.name, t.namespace, t.version, step_id, step_name, from_state, to_state,
            attempt, actor, reason, error, next_retry_at, duration_ms, created_at, t.created_at, t.trace_context;
END $$;
