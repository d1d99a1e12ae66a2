-- Records transitions of many steps at once, all to p_to with reason p_reason (element i: step
-- p_step_ids[i] of task p_task_ids[i], from p_from[i], attempt, actor and duration i) and returns
-- them as events, in array order. Rows reached by key, as in _tasks_moved. Each is dated by the
-- clock when it is written, like its id from the shared sequence: the audit trail's order by id is
-- also its order in time.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._steps_moved(p_task_ids bigint[], p_step_ids bigint[], p_names text[], p_from text[], p_to text,
                                                       p_attempts int[], p_actors text[], p_reason text, p_durations int[])
RETURNS SETOF :TASKER_SCHEMA.transition_event
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
  RETURN QUERY
  WITH logged AS (
    INSERT INTO :TASKER_SCHEMA.workflow_step_transitions (task_id, step_id, step_name, from_state, to_state, attempt, actor, reason, duration_ms)
    SELECT x.task_id, x.step_id, x.name, x.from_state, p_to, x.attempt, x.actor, p_reason, x.duration
      FROM unnest(p_task_ids, p_step_ids, p_names, p_from, p_attempts, p_actors, p_durations)
           WITH ORDINALITY x(task_id, step_id, name, from_state, attempt, actor, duration, i)
     ORDER BY x.i
    RETURNING *
  )
  SELECT 'step'::text, l.id, l.task_id, t.name, t.namespace, t.version, l.step_id, l.step_name, l.from_state, l.to_state,
         l.attempt, l.actor, l.reason, l.error, l.next_retry_at, l.duration_ms, l.created_at, t.created_at, t.trace_context
    FROM logged l CROSS JOIN LATERAL (SELECT * FROM :TASKER_SCHEMA.tasks y WHERE y.id = l.task_id OFFSET 0) t
   ORDER BY l.id;
END $$;
