-- The dependents of these finished steps are one parent closer to ready (a dependent of several of
-- them gets one per edge); p_skipped: the steps were skipped, which the dependents count apart.
-- Readiness is arithmetic on the dependent's row (the join rule: every parent finished, and at
-- least one not skipped), never a walk of the graph. Returns whether a dependent became ready, and
-- the dependents whose parents are now all skipped: the caller skips them in turn.
-- Each dependent is reached through the edges' key and its own (an extra id = ANY (...) gives the
-- generic plan the selective condition it needs on a young schema whose statistics say its tables
-- are empty).
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._parents_done(p_step_ids bigint[], p_skipped boolean, OUT ready boolean, OUT skip bigint[])
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
  WITH parents AS (
    SELECT e.to_step_id AS id, count(*)::int AS n
      FROM unnest(p_step_ids) x(id)
     CROSS JOIN LATERAL (SELECT y.to_step_id FROM :TASKER_SCHEMA.workflow_step_edges y WHERE y.from_step_id = x.id OFFSET 0) e
     GROUP BY e.to_step_id
  ), u AS (
    UPDATE :TASKER_SCHEMA.workflow_steps c
       SET parents_done = c.parents_done + p.n,
           parents_skipped = c.parents_skipped + CASE WHEN p_skipped THEN p.n ELSE 0 END,
           updated_at = now()
      FROM parents p WHERE c.id = p.id AND c.id = ANY (ARRAY(SELECT q.id FROM parents q))
    RETURNING c.id, c.parents_done = c.parents_total AND c.state IN ('pending', 'error') AS ready,
              c.parents_skipped = c.parents_total AND c.state = 'pending' AS all_skipped
  )
  SELECT coalesce(bool_or(u.ready AND NOT u.all_skipped), false), array_agg(u.id ORDER BY u.id) FILTER (WHERE u.all_skipped)
    INTO ready, skip FROM u;
END $$;
