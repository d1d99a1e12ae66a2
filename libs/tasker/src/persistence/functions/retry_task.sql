-- Operator: runs the failed steps of a task in error again, each with a fresh attempt budget;
-- completed steps never run again. A step that failed because its child task failed retries that
-- child and waits for it again (lock order as in cancel_task: the task, its children, its steps).
-- Failed instances of a map step with maxParallel queue again behind its places.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.retry_task(p_task_id bigint, p_actor text, p_reason text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t :TASKER_SCHEMA.tasks := :TASKER_SCHEMA._lock_task(p_task_id);
  r record;
  v_child :TASKER_SCHEMA.tasks;
BEGIN
  IF t.state <> 'error' THEN
    RAISE EXCEPTION 'Task % is %; only a task in error can be retried.', p_task_id, t.state
      USING ERRCODE = 'TK409', DETAIL = t.state;
  END IF;
  UPDATE :TASKER_SCHEMA.tasks SET state = 'pending', steps_failed = 0, updated_at = now(), completed_at = NULL WHERE id = t.id;
  RETURN QUERY SELECT * FROM :TASKER_SCHEMA._task_moved(t, 'pending', p_actor, p_reason);
  FOR r IN SELECT w.id, w.name, w.wait FROM :TASKER_SCHEMA.workflow_steps w
            WHERE w.task_id = t.id AND w.state = 'error' AND w.wait->>'kind' = 'child' ORDER BY w.id LOOP
    SELECT * INTO v_child FROM :TASKER_SCHEMA.tasks WHERE id = (r.wait->>'taskId')::bigint;
    CONTINUE WHEN v_child.state = 'cancelled'; -- nothing to retry: the step runs again and starts a new child
    IF v_child.state = 'error' THEN
      RETURN QUERY SELECT * FROM :TASKER_SCHEMA.retry_task(v_child.id, p_actor, coalesce(p_reason, format('parent task %s retried', t.id)));
    END IF;
    UPDATE :TASKER_SCHEMA.workflow_steps SET state = 'waiting', exhausted = false, updated_at = now(),
           available_at = CASE WHEN v_child.state = 'error' THEN 'infinity'::timestamptz ELSE now() END
     WHERE id = r.id;
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(t, r.id, r.name, 'error', 'waiting', NULL, p_actor,
                                                          coalesce(p_reason, format('waiting for child task %s', v_child.id)), NULL, NULL, NULL);
  END LOOP;
  FOR r IN UPDATE :TASKER_SCHEMA.workflow_steps w
              -- wait is cleared: a step whose child was cancelled on its own runs again and starts a new one.
              SET state = 'pending', attempts = 0, exhausted = false, available_at = now(), updated_at = now(), wait = NULL,
                  -- An instance of a map step with maxParallel waits for a place again.
                  parents_total = CASE WHEN m.max_parallel IS NULL THEN w.parents_total ELSE 1 END,
                  parents_done = CASE WHEN m.max_parallel IS NULL THEN w.parents_done ELSE 0 END
             FROM :TASKER_SCHEMA.workflow_steps w0
             LEFT JOIN :TASKER_SCHEMA.workflow_steps m ON m.id = w0.map_step_id
            WHERE w0.id = w.id AND w.task_id = t.id AND w.state = 'error'
           RETURNING w.id, w.name, w.map_step_id LOOP
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(t, r.id, r.name, 'error', 'pending', NULL, p_actor, p_reason, NULL, NULL, NULL);
  END LOOP;
  -- Places of map steps with maxParallel: let through as many held-back instances as are free.
  FOR r IN SELECT m.id, m.max_parallel FROM :TASKER_SCHEMA.workflow_steps m
            WHERE m.task_id = t.id AND m.state = 'waiting' AND m.wait->>'kind' = 'map' AND m.max_parallel IS NOT NULL LOOP
    UPDATE :TASKER_SCHEMA.workflow_steps SET parents_done = parents_total, updated_at = now()
     WHERE id = ANY (ARRAY(
       SELECT h.id FROM :TASKER_SCHEMA.workflow_steps h
        WHERE h.map_step_id = r.id AND h.parents_done < h.parents_total AND h.state = 'pending'
        ORDER BY h.map_index
        LIMIT greatest(0, r.max_parallel - (SELECT count(*) FROM :TASKER_SCHEMA.workflow_steps o
                                             WHERE o.map_step_id = r.id AND o.parents_done = o.parents_total
                                               AND (o.state IN ('pending', 'in_progress', 'waiting') OR o.state = 'error' AND NOT o.exhausted)))));
  END LOOP;
  PERFORM :TASKER_SCHEMA._wake('');
END $$;
