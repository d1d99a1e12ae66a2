/**
 * The operations that are not the engine's loop: creating tasks, the operator actions (retry,
 * cancel, resolve), the readiness explanation and recording task types. Same conventions as the
 * engine functions (task row locked first, transitions returned as events).
 * `s` is the quoted schema, `ch` the NOTIFY channel that wakes workers.
 */
export const initialOperationsSql = (s: string, ch: string) => `
-- Instantiates tasks from their registered definitions. p_requests is a JSON array of
-- {namedTaskId, context, tags, initiator, sourceSystem, reason, idempotencyKey, runAt, actor}; the actor
-- (who created it, e.g. an API key's name) defaults to the initiator (on whose behalf, a business field).
-- With an idempotency key already used (per namespace and name) the existing task is returned.
CREATE FUNCTION ${s}.create_tasks(p_requests jsonb)
RETURNS TABLE (idx int, task_id bigint, created boolean) LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_task bigint;
  v_ids bigint[];
  v_any boolean := false;
BEGIN
  -- Keyed requests first, in one global order (namespace, name, key): concurrent batches sharing
  -- keys then queue on each other's unique-index entries instead of deadlocking. Others keep
  -- request order; the answer is by idx either way.
  FOR r IN SELECT e.value AS v, e.ordinality::int AS i
             FROM jsonb_array_elements(p_requests) WITH ORDINALITY e
             LEFT JOIN ${s}.named_tasks knt ON e.value->>'idempotencyKey' IS NOT NULL AND knt.id = (e.value->>'namedTaskId')::int
             LEFT JOIN ${s}.namespaces kns ON kns.id = knt.namespace_id
            ORDER BY e.value->>'idempotencyKey' IS NULL, kns.name, knt.name, e.value->>'idempotencyKey', e.ordinality LOOP
    v_task := NULL;
    INSERT INTO ${s}.tasks (named_task_id, namespace, name, version, context, tags, initiator, source_system,
                            reason, idempotency_key, run_at, steps_total, trace_context)
    SELECT nt.id, ns.name, nt.name, nt.version, coalesce(r.v->'context', '{}'::jsonb),
           coalesce(ARRAY(SELECT jsonb_array_elements_text(r.v->'tags')), '{}'::text[]),
           r.v->>'initiator', r.v->>'sourceSystem', r.v->>'reason', r.v->>'idempotencyKey',
           (r.v->>'runAt')::timestamptz,
           (SELECT count(*) FROM ${s}.named_steps st WHERE st.named_task_id = nt.id), r.v->'traceContext'
      FROM ${s}.named_tasks nt JOIN ${s}.namespaces ns ON ns.id = nt.namespace_id
     WHERE nt.id = (r.v->>'namedTaskId')::int
    ON CONFLICT (namespace, name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id INTO v_task;

    IF v_task IS NULL THEN
      SELECT x.id INTO v_task FROM ${s}.tasks x
        JOIN ${s}.named_tasks nt ON nt.id = (r.v->>'namedTaskId')::int
        JOIN ${s}.namespaces ns ON ns.id = nt.namespace_id
       WHERE x.namespace = ns.name AND x.name = nt.name AND x.idempotency_key = r.v->>'idempotencyKey';
      IF v_task IS NULL THEN
        RAISE EXCEPTION 'task type % is not registered', r.v->>'namedTaskId' USING ERRCODE = 'TK404';
      END IF;
      idx := r.i; task_id := v_task; created := false;
      RETURN NEXT;
      CONTINUE;
    END IF;

    -- Steps are numbered by position (0..n-1); edges are wired by array index, not by joining
    -- the rows just inserted (whose statistics are stale: measured 980 ms for 1,000 steps).
    WITH ins AS (
      INSERT INTO ${s}.workflow_steps (task_id, named_task_id, named_step_id, name, position, retry_limit, retryable,
                                       timeout_ms, backoff, parents_total, available_at)
      SELECT v_task, st.named_task_id, st.id, st.name, st.position, st.retry_limit, st.retryable, st.timeout_ms,
             st.backoff, st.parents_total, greatest(now(), coalesce((r.v->>'runAt')::timestamptz, now()))
        FROM ${s}.named_steps st
       WHERE st.named_task_id = (r.v->>'namedTaskId')::int
      RETURNING id, position
    )
    SELECT array_agg(ins.id ORDER BY ins.position) INTO v_ids FROM ins;

    INSERT INTO ${s}.workflow_step_edges (task_id, from_step_id, to_step_id)
    SELECT v_task, v_ids[e.from_position + 1], v_ids[e.to_position + 1]
      FROM ${s}.named_step_edges e
     WHERE e.named_task_id = (r.v->>'namedTaskId')::int;

    INSERT INTO ${s}.task_transitions (task_id, from_state, to_state, actor, reason)
    VALUES (v_task, NULL, 'pending', coalesce(r.v->>'actor', r.v->>'initiator'), r.v->>'reason');
    v_any := true;
    idx := r.i; task_id := v_task; created := true;
    RETURN NEXT;
  END LOOP;
  IF v_any THEN PERFORM pg_notify('${ch}', ''); END IF;
END $$;

-- Operator: run the failed steps of a task in error again, each with a fresh attempt budget.
CREATE FUNCTION ${s}.retry_task(p_task_id bigint, p_actor text, p_reason text)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t ${s}.tasks;
  r record;
BEGIN
  SELECT * INTO t FROM ${s}.tasks WHERE id = p_task_id FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'task % does not exist', p_task_id USING ERRCODE = 'TK404'; END IF;
  IF t.state <> 'error' THEN
    RAISE EXCEPTION 'Task % is %; only a task in error can be retried.', p_task_id, t.state
      USING ERRCODE = 'TK409', DETAIL = t.state;
  END IF;
  UPDATE ${s}.tasks SET state = 'pending', steps_failed = 0, updated_at = now(), completed_at = NULL WHERE id = t.id;
  RETURN QUERY SELECT * FROM ${s}._task_moved(t, 'pending', p_actor, p_reason);
  FOR r IN UPDATE ${s}.workflow_steps SET state = 'pending', attempts = 0, exhausted = false, available_at = now(),
                  updated_at = now()
            WHERE task_id = t.id AND state = 'error'
           RETURNING id, name LOOP
    RETURN QUERY SELECT * FROM ${s}._step_moved(t, r.id, r.name, 'error', 'pending', NULL, p_actor, p_reason, NULL, NULL, NULL);
  END LOOP;
  PERFORM pg_notify('${ch}', '');
END $$;

-- Operator: stop a task. Waiting steps are cancelled; running ones are told through NOTIFY and
-- are recorded as cancelled (or complete) when their attempt returns. A step being claimed at
-- this very moment is skipped rather than waited for: it is settled the same way when it returns.
CREATE FUNCTION ${s}.cancel_task(p_task_id bigint, p_actor text, p_reason text)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql AS $$
DECLARE t ${s}.tasks;
BEGIN
  SELECT * INTO t FROM ${s}.tasks WHERE id = p_task_id FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'task % does not exist', p_task_id USING ERRCODE = 'TK404'; END IF;
  IF t.state IN ('complete', 'cancelled', 'resolved_manually') THEN
    RAISE EXCEPTION 'Task % is %; it can no longer be cancelled.', p_task_id, t.state
      USING ERRCODE = 'TK409', DETAIL = t.state;
  END IF;
  RETURN QUERY
  WITH picked AS (
    SELECT x.id, x.state AS old_state FROM ${s}.workflow_steps x
     WHERE x.task_id = t.id AND x.state IN ('pending', 'error') FOR UPDATE SKIP LOCKED
  ), u AS (
    UPDATE ${s}.workflow_steps w SET state = 'cancelled', updated_at = now(), completed_at = now()
      FROM picked WHERE w.id = picked.id
    RETURNING w.id, w.name, w.attempts, picked.old_state
  ), logged AS (
    INSERT INTO ${s}.workflow_step_transitions (task_id, step_id, step_name, from_state, to_state, attempt, actor, reason)
    SELECT t.id, u.id, u.name, u.old_state, 'cancelled', NULLIF(u.attempts, 0), p_actor, p_reason FROM u ORDER BY u.id
    RETURNING *
  )
  SELECT 'step', l.id, l.task_id, t.name, t.namespace, t.version, l.step_id, l.step_name, l.from_state, l.to_state,
         l.attempt, l.actor, l.reason, NULL::jsonb, NULL::timestamptz, NULL::int, l.created_at, t.created_at, t.trace_context
    FROM logged l ORDER BY l.id;
  UPDATE ${s}.tasks SET state = 'cancelled', updated_at = now(), completed_at = now() WHERE id = t.id;
  RETURN QUERY SELECT * FROM ${s}._task_moved(t, 'cancelled', p_actor, p_reason);
  PERFORM pg_notify('${ch}', 'cancel:' || t.id);
END $$;

-- Operator: mark a waiting or failed step as done with the given results; its dependents run.
CREATE FUNCTION ${s}.resolve_step(p_task_id bigint, p_step_name text, p_results jsonb, p_actor text, p_reason text)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t ${s}.tasks;
  w ${s}.workflow_steps;
BEGIN
  SELECT * INTO t FROM ${s}.tasks WHERE id = p_task_id FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'task % does not exist', p_task_id USING ERRCODE = 'TK404'; END IF;
  SELECT * INTO w FROM ${s}.workflow_steps WHERE task_id = t.id AND name = p_step_name FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'Task % has no step named "%".', p_task_id, p_step_name USING ERRCODE = 'TK405';
  END IF;
  IF t.state IN ('complete', 'cancelled', 'resolved_manually') THEN
    RAISE EXCEPTION 'Task % is %; its steps can no longer be resolved.', p_task_id, t.state
      USING ERRCODE = 'TK409', DETAIL = t.state;
  END IF;
  IF w.state NOT IN ('pending', 'error') THEN
    RAISE EXCEPTION 'Step "%" of task % is %; only a pending or failed step can be resolved.', p_step_name, p_task_id, w.state
      USING ERRCODE = 'TK409', DETAIL = w.state;
  END IF;
  UPDATE ${s}.workflow_steps SET state = 'resolved_manually', results = p_results, exhausted = false,
         completed_at = now(), updated_at = now()
   WHERE id = w.id;
  UPDATE ${s}.tasks SET steps_done = steps_done + 1,
         steps_failed = steps_failed - CASE WHEN w.state = 'error' AND w.exhausted THEN 1 ELSE 0 END,
         updated_at = now()
   WHERE id = t.id;
  RETURN QUERY SELECT * FROM ${s}._step_moved(t, w.id, w.name, w.state, 'resolved_manually', NULLIF(w.attempts, 0), p_actor,
                                              p_reason, NULL, NULL, NULL);
  PERFORM ${s}._parent_done(w.id);
  RETURN QUERY SELECT * FROM ${s}._settle_task(t.id, p_actor, p_reason);
END $$;

-- Why each step of a task is or is not ready, as the claim would see it now.
CREATE FUNCTION ${s}.step_readiness(p_task_id bigint)
RETURNS TABLE (step_id bigint, step_name text, state text, ready boolean, reason text, parents_done int,
               parents_total int, attempts int, retry_limit int, available_at timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT w.id, w.name, w.state,
         r.reason = 'ready', r.reason, w.parents_done, w.parents_total, w.attempts, w.retry_limit, w.available_at
    FROM ${s}.workflow_steps w
    JOIN ${s}.tasks t ON t.id = w.task_id
   CROSS JOIN LATERAL (SELECT CASE
           WHEN w.state IN ('complete', 'resolved_manually') THEN 'done'
           WHEN w.state = 'cancelled' THEN 'cancelled'
           WHEN w.state = 'in_progress' THEN 'running'
           WHEN w.exhausted THEN 'attempts_exhausted'
           WHEN t.state IN ('cancelled', 'complete', 'resolved_manually') THEN 'task_finished'
           WHEN w.parents_done < w.parents_total THEN 'waiting_for_dependencies'
           WHEN w.available_at > now() AND w.state = 'error' THEN 'waiting_for_retry'
           WHEN w.available_at > now() THEN 'not_before_run_at'
           ELSE 'ready' END AS reason) r
   WHERE w.task_id = p_task_id
   ORDER BY w.position
$$;

-- Records a task type's definition (as the process that has its handler sees it). Serialized per
-- type, so processes booting together agree; a changed definition replaces the step templates
-- (tasks already created keep the steps and edges they were created with).
CREATE FUNCTION ${s}.register_task_type(p_def jsonb) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v_ns int;
  v_id int;
  v_old jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('tasker-type:' || (p_def->>'namespace') || '/' || (p_def->>'name')));
  INSERT INTO ${s}.namespaces (name) VALUES (p_def->>'namespace') ON CONFLICT (name) DO NOTHING;
  SELECT id INTO v_ns FROM ${s}.namespaces WHERE name = p_def->>'namespace';
  SELECT id, definition INTO v_id, v_old FROM ${s}.named_tasks
   WHERE namespace_id = v_ns AND name = p_def->>'name' AND version = p_def->>'version';
  IF v_id IS NOT NULL AND v_old = p_def THEN RETURN v_id; END IF;
  IF v_id IS NULL THEN
    INSERT INTO ${s}.named_tasks (namespace_id, name, version, description, definition)
    VALUES (v_ns, p_def->>'name', p_def->>'version', p_def->>'description', p_def) RETURNING id INTO v_id;
  ELSE
    UPDATE ${s}.named_tasks SET definition = p_def, description = p_def->>'description', updated_at = now() WHERE id = v_id;
  END IF;
  DELETE FROM ${s}.named_steps
   WHERE named_task_id = v_id AND name NOT IN (SELECT x->>'name' FROM jsonb_array_elements(p_def->'steps') x);
  INSERT INTO ${s}.named_steps (named_task_id, name, position, description, retry_limit, retryable, timeout_ms, backoff, parents_total)
  SELECT v_id, x->>'name', (o - 1)::int, x->>'description', (x->>'retryLimit')::int, (x->>'retryable')::boolean,
         (x->>'timeoutMs')::int, x->'backoff', jsonb_array_length(x->'dependsOn')
    FROM jsonb_array_elements(p_def->'steps') WITH ORDINALITY AS e(x, o)
  ON CONFLICT (named_task_id, name) DO UPDATE
     SET position = EXCLUDED.position, description = EXCLUDED.description, retry_limit = EXCLUDED.retry_limit,
         retryable = EXCLUDED.retryable, timeout_ms = EXCLUDED.timeout_ms, backoff = EXCLUDED.backoff,
         parents_total = EXCLUDED.parents_total;
  DELETE FROM ${s}.named_step_edges WHERE named_task_id = v_id;
  INSERT INTO ${s}.named_step_edges (named_task_id, from_named_step_id, to_named_step_id, from_position, to_position)
  SELECT v_id, f.id, c.id, f.position, c.position
    FROM jsonb_array_elements(p_def->'steps') x
   CROSS JOIN jsonb_array_elements_text(x->'dependsOn') d(dep)
    JOIN ${s}.named_steps c ON c.named_task_id = v_id AND c.name = x->>'name'
    JOIN ${s}.named_steps f ON f.named_task_id = v_id AND f.name = d.dep;
  RETURN v_id;
END $$;
`;
