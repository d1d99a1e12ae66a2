-- After complete_one(..., false) and a claim by p_owner in the same statement: wakes the other
-- workers only when a dependent of the completed step is ready and still unclaimed. A chain's next
-- step is claimed by the worker that completed the previous one, so its hand-offs wake no one.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._wake_for_unclaimed(p_step_id bigint, p_owner text)
RETURNS void LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
  -- From the step to its dependents, each through its key (LATERAL ... OFFSET 0): left to itself,
  -- the planner of a young schema may read every step in index order and look up its edges.
  IF EXISTS (SELECT 1 FROM :TASKER_SCHEMA.workflow_step_edges e
              CROSS JOIN LATERAL (SELECT 1 FROM :TASKER_SCHEMA.workflow_steps c
                                   WHERE c.id = e.to_step_id AND c.parents_done = c.parents_total
                                     AND (c.state || '') IN ('pending', 'error') OFFSET 0) c
              WHERE e.from_step_id = p_step_id) THEN
    PERFORM :TASKER_SCHEMA._wake('ready:' || p_owner);
  END IF;
END $$;
