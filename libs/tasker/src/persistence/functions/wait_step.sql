-- The attempt's body ended by waiting: the step becomes waiting, holding no worker slot and no
-- lease, until the wait ends. p_wait is one of
--   {"kind":"signal","name":…,"timeoutMs":…?}  a signal already received ends the wait at once;
--   {"kind":"sleep","until":…}                 ready again at that time;
--   {"kind":"child"}                           p_child (a create_tasks request) is created here, in
--                                              the wait's transaction: exactly once, whatever crashes.
-- A wait that can end by time (a sleep, a timeout) or has ended (the child finished) is ready from
-- its available_at: the claim takes it back, and the worker records how it ended without running the
-- body again. A step waiting for a child it already has (claimed back too early) waits for it again.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.wait_step(p_step_id bigint, p_token uuid, p_wait jsonb, p_child jsonb)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  a record;
  t :TASKER_SCHEMA.tasks;
  w :TASKER_SCHEMA.workflow_steps;
  v_wait jsonb := p_wait;
  v_until timestamptz := 'infinity';
  v_child :TASKER_SCHEMA.tasks;
  v_reason text;
  s :TASKER_SCHEMA.signals;
BEGIN
  FOR a IN SELECT * FROM :TASKER_SCHEMA._lock_attempt(p_step_id, p_token) LOOP
    t := a.t;
    w := a.w;
    IF t.state = 'cancelled' THEN
      RETURN QUERY SELECT * FROM :TASKER_SCHEMA._record_failure(t, w,
        jsonb_build_object('name', 'AttemptAbort', 'message', format('Task %s was cancelled.', t.id)), NULL, NULL);
      RETURN;
    END IF;
    IF p_wait->>'kind' = 'sleep' THEN
      v_until := (p_wait->>'until')::timestamptz;
      v_reason := format('sleeping until %s', to_char(v_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
    ELSIF p_wait->>'kind' = 'signal' THEN
      IF p_wait ? 'timeoutMs' THEN
        v_until := now() + (p_wait->>'timeoutMs')::bigint * interval '1 millisecond';
        v_wait := p_wait || jsonb_build_object('until', v_until);
      END IF;
      v_reason := format('waiting for signal "%s"', p_wait->>'name');
    ELSE
      IF w.wait->>'kind' = 'child' AND w.wait ? 'taskId' THEN
        SELECT * INTO v_child FROM :TASKER_SCHEMA.tasks WHERE id = (w.wait->>'taskId')::bigint;
      ELSE
        SELECT (c.task).* INTO v_child
          FROM :TASKER_SCHEMA.create_tasks(jsonb_build_array(p_child || jsonb_build_object('parentTaskId', t.id, 'parentStepId', w.id, 'parentStepName', w.name))) c;
        RETURN QUERY
        SELECT 'task'::text, x.id, x.task_id, v_child.name, v_child.namespace, v_child.version, NULL::bigint, NULL::text, x.from_state,
               x.to_state, NULL::int, x.actor, x.reason, NULL::jsonb, NULL::timestamptz, NULL::int, x.created_at, v_child.created_at,
               v_child.trace_context
          FROM :TASKER_SCHEMA.task_transitions x WHERE x.task_id = v_child.id;
      END IF;
      v_wait := jsonb_build_object('kind', 'child', 'taskId', v_child.id::text);
      IF v_child.state IN ('complete', 'error', 'cancelled', 'resolved_manually') THEN v_until := now(); END IF;
      v_reason := format('waiting for child task %s', v_child.id);
    END IF;
    UPDATE :TASKER_SCHEMA.workflow_steps SET state = 'waiting', wait = v_wait, available_at = v_until, updated_at = now(),
           lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
     WHERE id = w.id;
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._start_if_pending(t.id, w.lease_owner);
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(t, w.id, w.name, 'in_progress', 'waiting', w.attempts, w.lease_owner, v_reason,
                                                          NULL, NULL, (extract(epoch FROM clock_timestamp() - w.started_at) * 1000)::int);
    IF p_wait->>'kind' = 'signal' THEN
      SELECT * INTO s FROM :TASKER_SCHEMA.signals WHERE task_id = t.id AND name = p_wait->>'name';
      IF FOUND THEN RETURN QUERY SELECT * FROM :TASKER_SCHEMA._deliver_signal(t, w.id, s); END IF;
    END IF;
  END LOOP;
END $$;
