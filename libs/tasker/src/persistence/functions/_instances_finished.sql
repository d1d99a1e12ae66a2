-- Instances (steps p_ids) of map steps of task t (locked) finished. p_done: they count towards
-- their map step's completion (complete, resolved, skipped). p_free: each held one of its map
-- step's maxParallel places, which goes to the next held-back instance, lowest index first. A map
-- step whose instances are all done completes with their results, in item order.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._instances_finished(t :TASKER_SCHEMA.tasks, p_ids bigint[], p_done boolean, p_free boolean)
RETURNS SETOF :TASKER_SCHEMA.transition_event
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  r record;
  v_all boolean;
BEGIN
  FOR r IN SELECT x.map_step_id AS id, count(*)::int AS n
             FROM unnest(p_ids) i(id)
            CROSS JOIN LATERAL (SELECT y.map_step_id FROM :TASKER_SCHEMA.workflow_steps y WHERE y.id = i.id OFFSET 0) x
            WHERE x.map_step_id IS NOT NULL
            GROUP BY x.map_step_id ORDER BY x.map_step_id LOOP
    IF p_free THEN
      UPDATE :TASKER_SCHEMA.workflow_steps SET parents_done = parents_total, updated_at = now()
       WHERE id = ANY (ARRAY(SELECT h.id FROM :TASKER_SCHEMA.workflow_steps h
                              WHERE h.map_step_id = r.id AND h.parents_done < h.parents_total AND h.state = 'pending'
                              ORDER BY h.map_index LIMIT r.n));
      IF FOUND THEN PERFORM :TASKER_SCHEMA._wake(''); END IF;
    END IF;
    IF p_done THEN
      UPDATE :TASKER_SCHEMA.workflow_steps SET map_done = map_done + r.n, updated_at = now()
       WHERE id = r.id AND state = 'waiting'
      RETURNING map_done >= map_total INTO v_all;
      IF v_all THEN
        RETURN QUERY SELECT * FROM :TASKER_SCHEMA._complete_waiting(t, r.id,
          (SELECT jsonb_agg(i.results ORDER BY i.map_index) FROM :TASKER_SCHEMA.workflow_steps i WHERE i.map_step_id = r.id),
          NULL, NULL);
      END IF;
    END IF;
  END LOOP;
END $$;
