-- The attempt of a map step evaluated its items: the step expands into one instance per item
-- (steps named <name>[i], each an ordinary step with the map step's options), and waits for them;
-- the task has that many more steps. At most p_max_parallel instances are let through at once
-- (NULL: all); the others wait, held by parents_done < parents_total, for one to finish.
-- Exactly once: the lease token fences the expansion, which is one transaction (a crash rolls it
-- back, and the next attempt evaluates the items again); instance names are unique per task.
-- No items: the map step completes at once with [].
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.expand_map(p_step_id bigint, p_token uuid, p_items jsonb, p_max_parallel int)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  a record;
  t :TASKER_SCHEMA.tasks;
  w :TASKER_SCHEMA.workflow_steps;
  n int := jsonb_array_length(p_items);
BEGIN
  IF n = 0 THEN
    UPDATE :TASKER_SCHEMA.workflow_steps SET map_total = 0, map_done = 0, max_parallel = p_max_parallel
     WHERE id = p_step_id AND lease_token = p_token AND state = 'in_progress';
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA.complete_one(p_step_id, p_token, '[]'::jsonb);
    RETURN;
  END IF;
  FOR a IN SELECT * FROM :TASKER_SCHEMA._lock_attempt(p_step_id, p_token) LOOP
    t := a.t;
    w := a.w;
    -- Cancelled while the items were evaluated: no instance is added, the step is cancelled.
    IF t.state = 'cancelled' THEN
      RETURN QUERY SELECT * FROM :TASKER_SCHEMA._record_failure(t, w,
        jsonb_build_object('name', 'AttemptAbort', 'message', format('Task %s was cancelled.', t.id)), NULL, NULL);
      RETURN;
    END IF;
    INSERT INTO :TASKER_SCHEMA.workflow_steps (task_id, named_task_id, named_step_id, name, position, retry_limit, retryable,
                                               timeout_ms, backoff, parents_total, available_at, map_step_id, map_index, item,
                                               priority, slot_key, rate_key, task_slot_key)
    SELECT t.id, w.named_task_id, w.named_step_id, w.name || '[' || (e.o - 1) || ']', w.position, w.retry_limit, w.retryable,
           w.timeout_ms, w.backoff, CASE WHEN e.o <= coalesce(p_max_parallel, n) THEN 0 ELSE 1 END, now(), w.id, (e.o - 1)::int, e.v,
           w.priority, w.slot_key, w.rate_key, w.task_slot_key
      FROM jsonb_array_elements(p_items) WITH ORDINALITY e(v, o);
    UPDATE :TASKER_SCHEMA.workflow_steps
       SET state = 'waiting', wait = jsonb_build_object('kind', 'map'), map_total = n, map_done = 0, max_parallel = p_max_parallel,
           available_at = 'infinity', updated_at = now(), lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
     WHERE id = w.id;
    UPDATE :TASKER_SCHEMA.tasks SET steps_total = steps_total + n, updated_at = now() WHERE id = t.id;
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._start_if_pending(t.id, w.lease_owner);
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(t, w.id, w.name, 'in_progress', 'waiting', w.attempts, w.lease_owner,
                                                          format('expanded into %s instances', n), NULL, NULL,
                                                          (extract(epoch FROM clock_timestamp() - w.started_at) * 1000)::int);
    PERFORM :TASKER_SCHEMA._wake('');
  END LOOP;
END $$;
