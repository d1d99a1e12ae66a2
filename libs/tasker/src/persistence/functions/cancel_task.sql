-- Operator: stops a task and its unfinished child tasks. Steps not running are cancelled now
-- (waiting ones too); running ones are told through the 'cancel:<id>' NOTIFY, and their attempts are
-- recorded as cancelled (or complete) when they return. A step being claimed at this very moment is
-- skipped rather than waited for: it is settled the same way when its attempt returns.
-- Lock order: the task, then its children (ids ascending: a child is younger than its parent),
-- then the steps; a settling child touches its parent's step, never the parent task.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.cancel_task(p_task_id bigint, p_actor text, p_reason text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t :TASKER_SCHEMA.tasks := :TASKER_SCHEMA._lock_task(p_task_id);
  c record;
  v_ids bigint[];
  v_names text[];
  v_old text[];
  v_attempts int[];
BEGIN
  IF t.state IN ('complete', 'cancelled', 'resolved_manually') THEN
    RAISE EXCEPTION 'Task % is %; it can no longer be cancelled.', p_task_id, t.state
      USING ERRCODE = 'TK409', DETAIL = t.state;
  END IF;
  FOR c IN SELECT x.id FROM :TASKER_SCHEMA.tasks x
            WHERE x.parent_task_id = t.id AND x.state NOT IN ('complete', 'cancelled', 'resolved_manually') ORDER BY x.id LOOP
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA.cancel_task(c.id, p_actor, coalesce(p_reason, format('parent task %s cancelled', t.id)));
  END LOOP;
  WITH picked AS (
    SELECT x.id, x.state AS old_state FROM :TASKER_SCHEMA.workflow_steps x
     WHERE x.task_id = t.id AND x.state IN ('pending', 'error', 'waiting') FOR UPDATE SKIP LOCKED
  ), u AS (
    UPDATE :TASKER_SCHEMA.workflow_steps w SET state = 'cancelled', held_key = NULL, updated_at = now(), completed_at = now()
      FROM picked WHERE w.id = picked.id
    RETURNING w.id, w.name, w.attempts, picked.old_state
  )
  SELECT array_agg(u.id ORDER BY u.id), array_agg(u.name ORDER BY u.id), array_agg(u.old_state ORDER BY u.id),
         array_agg(NULLIF(u.attempts, 0) ORDER BY u.id)
    INTO v_ids, v_names, v_old, v_attempts FROM u;
  IF v_ids IS NOT NULL THEN
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._steps_moved(array_fill(t.id, ARRAY[cardinality(v_ids)]), v_ids, v_names, v_old,
      'cancelled', v_attempts, array_fill(p_actor, ARRAY[cardinality(v_ids)]), p_reason, NULL);
  END IF;
  UPDATE :TASKER_SCHEMA.tasks SET state = 'cancelled', updated_at = now(), completed_at = now() WHERE id = t.id;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._task_moved(t, 'cancelled', p_actor, p_reason);
  PERFORM :TASKER_SCHEMA._wake('cancel:' || t.id);
END $$;
