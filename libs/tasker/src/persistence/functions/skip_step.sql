-- The attempt found the step's condition false (p_reason): the step is skipped without using an
-- attempt, and counts as done; dependents whose parents are all skipped are skipped too.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.skip_step(p_step_id bigint, p_token uuid, p_reason text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  a record;
  w :TASKER_SCHEMA.workflow_steps;
BEGIN
  FOR a IN SELECT * FROM :TASKER_SCHEMA._lock_attempt(p_step_id, p_token) LOOP
    w := a.w;
    UPDATE :TASKER_SCHEMA.workflow_steps SET state = 'skipped', attempts = greatest(attempts - 1, 0), completed_at = now(),
           updated_at = now(), lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
     WHERE id = w.id;
    UPDATE :TASKER_SCHEMA.tasks SET steps_done = steps_done + 1, updated_at = now() WHERE id = (a.t).id;
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._start_if_pending((a.t).id, w.lease_owner);
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(a.t, w.id, w.name, 'in_progress', 'skipped', NULL, w.lease_owner, p_reason,
                                                          NULL, NULL, NULL);
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._skip_cascade(a.t, ARRAY[w.id]);
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._settle_task((a.t).id, NULL, NULL);
  END LOOP;
END $$;
