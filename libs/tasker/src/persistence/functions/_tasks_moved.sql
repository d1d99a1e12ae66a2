-- Records transitions of many tasks at once (element i: task p_ids[i] from p_from[i] to p_to[i],
-- by p_actors[i]; a NULL p_to[i] records nothing) and returns them as events, in array order.
-- The batched paths (claims, batches of outcomes) write all their task moves in one statement.
-- Child tasks that settle hand the wait back to their parents' steps (_child_settled).
-- Every row is reached by key (LATERAL ... OFFSET 0, no sequential scans): the plan is generic
-- and cached, and stale statistics must not turn a lookup into a scan of a growing table.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._tasks_moved(p_ids bigint[], p_from text[], p_to text[], p_actors text[])
RETURNS SETOF :TASKER_SCHEMA.transition_event
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
  RETURN QUERY
  WITH logged AS (
    INSERT INTO :TASKER_SCHEMA.task_transitions (task_id, from_state, to_state, actor)
    SELECT x.id, x.from_state, x.to_state, x.actor
      FROM unnest(p_ids, p_from, p_to, p_actors) WITH ORDINALITY x(id, from_state, to_state, actor, i)
     WHERE x.to_state IS NOT NULL
     ORDER BY x.i
    RETURNING *
  )
  SELECT 'task'::text, l.id, l.task_id, t.name, t.namespace, t.version, NULL::bigint, NULL::text, l.from_state, l.to_state,
         NULL::int, l.actor, l.reason, NULL::jsonb, NULL::timestamptz, NULL::int, l.created_at, t.created_at, t.trace_context
    FROM logged l CROSS JOIN LATERAL (SELECT * FROM :TASKER_SCHEMA.tasks y WHERE y.id = l.task_id OFFSET 0) t
   ORDER BY l.id;
  IF p_to && ARRAY['complete', 'error', 'cancelled'] THEN
    PERFORM :TASKER_SCHEMA._child_settled(ARRAY(
      SELECT c.parent_step_id FROM unnest(p_ids, p_to) x(id, to_state)
       CROSS JOIN LATERAL (SELECT y.parent_step_id FROM :TASKER_SCHEMA.tasks y WHERE y.id = x.id OFFSET 0) c
       WHERE x.to_state IN ('complete', 'error', 'cancelled') AND c.parent_step_id IS NOT NULL));
  END IF;
END $$;
