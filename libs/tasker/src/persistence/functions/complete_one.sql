-- One success: what complete_steps does for a batch, for a single step, with scalar statements (a
-- worker that is not busy stores its successes one at a time, a chain's every hand-off, and for one
-- row the set-based statements cost more to set up than the writes). Same rules, same transitions
-- in the same order, same events. The lease token fences the outcome: no rows back means the lease
-- was lost and the outcome discarded.
-- p_wake false: no NOTIFY for the dependents made ready; the caller claims in the same statement and
-- wakes the other workers only for those it left unclaimed (_wake_for_unclaimed).
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.complete_one(p_id bigint, p_token uuid, p_results jsonb, p_wake boolean DEFAULT true)
RETURNS SETOF :TASKER_SCHEMA.transition_event
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  t :TASKER_SCHEMA.tasks;  -- the task, locked, as it was before this outcome
  v_owner text;
  v_name text;
  v_attempt int;
  v_started timestamptz;
  v_new text;
  v_ready boolean;
  v_map_step bigint;      -- the map step, when this step is one of its instances
  v_duration int;
  v_step_tid bigint;      -- when the step completes the task: the two transitions' ids and their time
  v_task_tid bigint;
  v_at timestamptz;
BEGIN
  -- The task first (every path locks the task before its steps); the worker that ran the attempt
  -- is the actor of its outcome in the audit trail.
  SELECT x.* INTO t FROM :TASKER_SCHEMA.tasks x
   WHERE x.id = (SELECT y.task_id FROM :TASKER_SCHEMA.workflow_steps y WHERE y.id = p_id) FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT y.lease_owner INTO v_owner FROM :TASKER_SCHEMA.workflow_steps y WHERE y.id = p_id;

  UPDATE :TASKER_SCHEMA.workflow_steps w
     SET state = 'complete', results = p_results, completed_at = now(), updated_at = now(),
         lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
   WHERE w.id = p_id AND w.lease_token = p_token AND (w.state || '') = 'in_progress'
  RETURNING w.name, w.attempts, w.started_at, w.map_step_id INTO v_name, v_attempt, v_started, v_map_step;
  IF NOT FOUND THEN RETURN; END IF;

  -- A success starts a task still pending (its claim could not lock it).
  v_new := :TASKER_SCHEMA._task_state(CASE WHEN t.state = 'pending' THEN 'in_progress' ELSE t.state END,
                                      t.steps_done + 1, t.steps_total, t.steps_failed, NULL);
  UPDATE :TASKER_SCHEMA.tasks x
     SET steps_done = x.steps_done + 1, state = v_new, updated_at = now(),
         completed_at = CASE WHEN v_new = 'complete' AND t.state <> 'complete' THEN now() ELSE x.completed_at END
   WHERE x.id = t.id;

  -- Transitions in the order they happened: task started, step completed, task completed.
  IF t.state = 'pending' THEN
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._task_moved(t, 'in_progress', v_owner, NULL);
    t.state := 'in_progress';
  END IF;
  v_duration := (extract(epoch FROM clock_timestamp() - v_started) * 1000)::int;
  IF v_new = 'complete' AND t.state <> 'complete' THEN
    -- The task's completion is stored in the step's transition (see the transitions view), with the
    -- id that follows the step's; both ids and their time drawn together (see complete_steps).
    SELECT nextval(':TASKER_SCHEMA.transition_seq'), nextval(':TASKER_SCHEMA.transition_seq'), clock_timestamp()
      INTO v_step_tid, v_task_tid, v_at;
    INSERT INTO :TASKER_SCHEMA.workflow_step_transitions
      (id, task_id, step_id, step_name, from_state, to_state, attempt, actor, duration_ms, created_at, task_transition_id, task_from, task_to)
    VALUES (v_step_tid, t.id, p_id, v_name, 'in_progress', 'complete', v_attempt, v_owner, v_duration, v_at, v_task_tid, t.state, 'complete');
    RETURN QUERY
    SELECT 'step'::text, v_step_tid, t.id, t.name, t.namespace, t.version, p_id, v_name, 'in_progress'::text, 'complete'::text,
           v_attempt, v_owner, NULL::text, NULL::jsonb, NULL::timestamptz, v_duration, v_at, t.created_at, t.trace_context
    UNION ALL
    SELECT 'task'::text, v_task_tid, t.id, t.name, t.namespace, t.version, NULL::bigint, NULL::text, t.state, 'complete'::text,
           NULL::int, NULL::text, NULL::text, NULL::jsonb, NULL::timestamptz, NULL::int, v_at, t.created_at, t.trace_context
     ORDER BY 2;
    IF t.parent_step_id IS NOT NULL THEN PERFORM :TASKER_SCHEMA._child_settled(ARRAY[t.parent_step_id]); END IF;
  ELSE
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._step_moved(t, p_id, v_name, 'in_progress', 'complete', v_attempt, v_owner, NULL, NULL, NULL,
                                                          v_duration);
    IF v_new <> t.state THEN
      RETURN QUERY SELECT * FROM :TASKER_SCHEMA._task_moved(t, v_new, NULL, NULL);
    END IF;
  END IF;

  SELECT p.ready INTO v_ready FROM :TASKER_SCHEMA._parents_done(ARRAY[p_id], false) p;
  IF v_ready AND p_wake THEN
    PERFORM :TASKER_SCHEMA._wake('ready:' || v_owner);
  END IF;
  IF v_map_step IS NOT NULL THEN
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._instances_finished(t, ARRAY[p_id], true, true);
  END IF;

  IF v_new NOT IN ('complete', 'cancelled', 'resolved_manually') AND (t.steps_failed > 0 OR v_new = 'error') THEN
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._settle_task(t.id, NULL, NULL);
  END IF;
END $$;
