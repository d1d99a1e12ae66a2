-- The dependents of these finished steps are one parent closer to ready (a dependent of several
-- of them gets one per edge); true when one of them became ready. Readiness is arithmetic on the
-- dependent's row (parents_done = parents_total), never a walk of the graph. Each dependent is
-- reached through the edges' key and its own (an extra id = ANY (...) gives the generic plan the
-- selective condition it needs on a young schema whose statistics say its tables are empty).
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._parents_done(p_step_ids bigint[])
RETURNS boolean LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE v_ready boolean;
BEGIN
  WITH parents AS (
    SELECT e.to_step_id AS id, count(*)::int AS n
      FROM unnest(p_step_ids) x(id)
     CROSS JOIN LATERAL (SELECT y.to_step_id FROM :TASKER_SCHEMA.workflow_step_edges y WHERE y.from_step_id = x.id OFFSET 0) e
     GROUP BY e.to_step_id
  ), u AS (
    UPDATE :TASKER_SCHEMA.workflow_steps c SET parents_done = c.parents_done + p.n, updated_at = now()
      FROM parents p WHERE c.id = p.id AND c.id = ANY (ARRAY(SELECT q.id FROM parents q))
    RETURNING c.parents_done = c.parents_total AND c.state IN ('pending', 'error') AS ready
  )
  SELECT coalesce(bool_or(u.ready), false) INTO v_ready FROM u;
  RETURN v_ready;
END $$;
