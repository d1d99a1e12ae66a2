/**
 * Readiness, claiming and every state change of the engine, as Postgres functions: each runs in
 * one round-trip and in one transaction with its transitions. Lock order everywhere is
 * task row first, then its steps; the claim, which finds steps before it knows their tasks,
 * only ever takes task locks with SKIP LOCKED, so no path can deadlock with another.
 * `s` is the quoted schema, `ch` the NOTIFY channel that wakes workers.
 */
export const initialFunctionsSql = (s: string, ch: string) => `
CREATE TYPE ${s}.transition_event AS (
  kind           text,      -- 'task' or 'step'
  transition_id  bigint,
  task_id        bigint,
  task_name      text,
  namespace      text,
  version        text,
  step_id        bigint,
  step_name      text,
  from_state     text,
  to_state       text,
  attempt        int,
  actor          text,
  reason         text,
  error          jsonb,
  next_retry_at  timestamptz,
  duration_ms    int,
  at             timestamptz,
  task_created_at timestamptz,
  trace_context  jsonb       -- the W3C trace context of the task's creation, for tracing
);

-- Records one task transition and returns it as an event.
CREATE FUNCTION ${s}._task_moved(t ${s}.tasks, p_to text, p_actor text, p_reason text)
RETURNS SETOF ${s}.transition_event LANGUAGE sql AS $$
  INSERT INTO ${s}.task_transitions (task_id, from_state, to_state, actor, reason)
  VALUES (t.id, t.state, p_to, p_actor, p_reason)
  RETURNING 'task', id, task_id, t.name, t.namespace, t.version, NULL::bigint, NULL::text,
            from_state, to_state, NULL::int, actor, reason, NULL::jsonb, NULL::timestamptz, NULL::int, created_at,
            t.created_at, t.trace_context
$$;

-- Records one step transition and returns it as an event.
CREATE FUNCTION ${s}._step_moved(t ${s}.tasks, p_step_id bigint, p_step_name text, p_from text, p_to text,
                                 p_attempt int, p_actor text, p_reason text, p_error jsonb,
                                 p_next_retry_at timestamptz, p_duration_ms int)
RETURNS SETOF ${s}.transition_event LANGUAGE sql AS $$
  INSERT INTO ${s}.workflow_step_transitions
    (task_id, step_id, step_name, from_state, to_state, attempt, actor, reason, error, next_retry_at, duration_ms)
  VALUES (t.id, p_step_id, p_step_name, p_from, p_to, p_attempt, p_actor, p_reason, p_error, p_next_retry_at, p_duration_ms)
  RETURNING 'step', id, task_id, t.name, t.namespace, t.version, step_id, step_name, from_state, to_state,
            attempt, actor, reason, error, next_retry_at, duration_ms, created_at, t.created_at, t.trace_context
$$;

-- Moves the (locked) task to where its steps say it is: complete when every step is done,
-- error when a step failed for good and nothing else can move, back to in_progress when an
-- operator's action made work possible again.
CREATE FUNCTION ${s}._settle_task(p_task_id bigint, p_actor text, p_reason text)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t ${s}.tasks;
  v_to text;
BEGIN
  SELECT * INTO t FROM ${s}.tasks WHERE id = p_task_id;
  IF t.state IN ('complete', 'cancelled', 'resolved_manually') THEN RETURN; END IF;
  IF t.steps_done = t.steps_total THEN
    v_to := 'complete';
  ELSIF t.steps_failed = 0 AND t.state <> 'error' THEN
    RETURN; -- the common case: nothing failed, work goes on; no scan of the steps
  ELSIF EXISTS (SELECT 1 FROM ${s}.workflow_steps w
                WHERE w.task_id = p_task_id
                  AND (w.state = 'in_progress'
                       OR (w.state IN ('pending', 'error') AND NOT w.exhausted AND w.parents_done = w.parents_total))) THEN
    v_to := CASE WHEN t.state = 'error' THEN 'in_progress' ELSE t.state END;
  ELSIF t.steps_failed > 0 THEN
    v_to := 'error';
  ELSE
    v_to := t.state;
  END IF;
  IF v_to = t.state THEN RETURN; END IF;
  UPDATE ${s}.tasks SET state = v_to, updated_at = now(),
         completed_at = CASE WHEN v_to = 'complete' THEN now() ELSE NULL END
   WHERE id = p_task_id;
  RETURN QUERY SELECT * FROM ${s}._task_moved(t, v_to, p_actor, p_reason);
END $$;

-- A task still pending when its first outcome arrives (its claim could not lock it) starts now.
CREATE FUNCTION ${s}._start_if_pending(p_task_id bigint, p_actor text)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql AS $$
DECLARE t ${s}.tasks;
BEGIN
  SELECT * INTO t FROM ${s}.tasks WHERE id = p_task_id;
  IF t.state <> 'pending' THEN RETURN; END IF;
  UPDATE ${s}.tasks SET state = 'in_progress', updated_at = now() WHERE id = p_task_id;
  RETURN QUERY SELECT * FROM ${s}._task_moved(t, 'in_progress', p_actor, NULL);
END $$;

-- Marks children of a done step one parent closer to ready; wakes workers when one became ready.
CREATE FUNCTION ${s}._parent_done(p_step_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE v_ready boolean;
BEGIN
  WITH u AS (
    UPDATE ${s}.workflow_steps c SET parents_done = c.parents_done + 1, updated_at = now()
      FROM ${s}.workflow_step_edges e
     WHERE e.from_step_id = p_step_id AND c.id = e.to_step_id
    RETURNING c.parents_done = c.parents_total AND c.state IN ('pending', 'error') AS ready
  )
  SELECT bool_or(ready) INTO v_ready FROM u;
  IF v_ready THEN PERFORM pg_notify('${ch}', ''); END IF;
END $$;

-- Claims up to p_limit ready steps of the given task types for p_owner, with a lease.
-- FOR UPDATE SKIP LOCKED: concurrent workers never wait for, nor take, each other's rows.
CREATE FUNCTION ${s}.claim_steps(p_owner text, p_types int[], p_limit int, p_lease_ms int)
RETURNS TABLE (step_id bigint, task_id bigint, step_name text, attempt int, retry_limit int, retryable boolean,
               timeout_ms int, backoff jsonb, lease_token uuid, claimed_at timestamptz,
               task_name text, namespace text, version text, task_state text, context jsonb, tags text[],
               parent_results jsonb, task_started boolean, trace_context jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  v_ids bigint[];
  v_tasks bigint[];
  v_old text[];
  v_started bigint[];
BEGIN
  WITH picked AS (
    SELECT w.id, w.state AS old_state
      FROM ${s}.workflow_steps w
     WHERE w.state IN ('pending', 'error') AND NOT w.exhausted AND w.parents_done = w.parents_total
       AND w.available_at <= now() AND w.named_task_id = ANY (p_types)
     ORDER BY w.available_at, w.id
     LIMIT p_limit
       FOR UPDATE SKIP LOCKED
  ), claimed AS (
    UPDATE ${s}.workflow_steps w
       SET state = 'in_progress', attempts = w.attempts + 1, lease_owner = p_owner,
           lease_token = gen_random_uuid(), lease_expires_at = now() + p_lease_ms * interval '1 millisecond',
           started_at = now(), completed_at = NULL, updated_at = now()
      FROM picked WHERE w.id = picked.id
    RETURNING w.id, w.task_id, picked.old_state
  )
  SELECT array_agg(c.id ORDER BY c.id), array_agg(c.task_id ORDER BY c.id), array_agg(c.old_state ORDER BY c.id)
    INTO v_ids, v_tasks, v_old FROM claimed c;
  IF v_ids IS NULL THEN RETURN; END IF;

  -- A task being changed by someone else right now is skipped; its first outcome starts it.
  WITH lockable AS (
    SELECT t.id FROM ${s}.tasks t WHERE t.id = ANY (v_tasks) AND t.state = 'pending'
     ORDER BY t.id FOR UPDATE SKIP LOCKED
  ), started AS (
    UPDATE ${s}.tasks t SET state = 'in_progress', updated_at = now() FROM lockable l WHERE t.id = l.id RETURNING t.id
  ), logged AS (
    INSERT INTO ${s}.task_transitions (task_id, from_state, to_state, actor)
    SELECT id, 'pending', 'in_progress', p_owner FROM started RETURNING task_transitions.task_id
  )
  SELECT array_agg(l.task_id) INTO v_started FROM logged l;

  INSERT INTO ${s}.workflow_step_transitions (task_id, step_id, step_name, from_state, to_state, attempt, actor)
  SELECT w.task_id, w.id, w.name, o.old_state, 'in_progress', w.attempts, p_owner
    FROM unnest(v_ids, v_old) AS o(id, old_state) JOIN ${s}.workflow_steps w ON w.id = o.id
   ORDER BY w.id;

  RETURN QUERY
  SELECT w.id, w.task_id, w.name, w.attempts, w.retry_limit, w.retryable, w.timeout_ms, w.backoff, w.lease_token,
         w.started_at, t.name, t.namespace, t.version, t.state, t.context, t.tags,
         (SELECT coalesce(jsonb_object_agg(p.name, p.results), '{}'::jsonb)
            FROM ${s}.workflow_step_edges e JOIN ${s}.workflow_steps p ON p.id = e.from_step_id
           WHERE e.to_step_id = w.id),
         w.task_id = ANY (coalesce(v_started, '{}'::bigint[])), t.trace_context
    FROM ${s}.workflow_steps w JOIN ${s}.tasks t ON t.id = w.task_id
   WHERE w.id = ANY (v_ids)
   ORDER BY w.id;
END $$;

-- Stores a successful attempt. Fenced by the lease token: a worker whose lease lapsed and whose
-- step was claimed again cannot overwrite the new owner's outcome (returns no rows then).
CREATE FUNCTION ${s}.complete_step(p_step_id bigint, p_token uuid, p_results jsonb)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t ${s}.tasks;
  w ${s}.workflow_steps;
  v_owner text;
BEGIN
  SELECT x.* INTO t FROM ${s}.tasks x JOIN ${s}.workflow_steps y ON y.task_id = x.id
   WHERE y.id = p_step_id FOR UPDATE OF x;
  IF NOT FOUND THEN RETURN; END IF;
  -- The worker that ran the attempt is the actor of its outcome in the audit trail.
  SELECT lease_owner INTO v_owner FROM ${s}.workflow_steps WHERE id = p_step_id;
  UPDATE ${s}.workflow_steps SET state = 'complete', results = p_results, completed_at = now(), updated_at = now(),
         lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
   WHERE id = p_step_id AND lease_token = p_token AND state = 'in_progress'
  RETURNING * INTO w;
  IF NOT FOUND THEN RETURN; END IF;
  UPDATE ${s}.tasks SET steps_done = steps_done + 1, updated_at = now() WHERE id = t.id;
  RETURN QUERY SELECT * FROM ${s}._start_if_pending(t.id, v_owner);
  RETURN QUERY SELECT * FROM ${s}._step_moved(t, w.id, w.name, 'in_progress', 'complete', w.attempts, v_owner, NULL, NULL, NULL,
                                              (extract(epoch FROM clock_timestamp() - w.started_at) * 1000)::int);
  PERFORM ${s}._parent_done(w.id);
  RETURN QUERY SELECT * FROM ${s}._settle_task(t.id, NULL, NULL);
END $$;

-- Records a failed attempt of a step locked together with its task. p_retry_at NULL: no retry.
CREATE FUNCTION ${s}._record_failure(t ${s}.tasks, w ${s}.workflow_steps, p_error jsonb, p_retry_at timestamptz, p_actor text)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql AS $$
DECLARE
  v_duration int := (extract(epoch FROM clock_timestamp() - w.started_at) * 1000)::int;
BEGIN
  IF t.state = 'cancelled' THEN
    UPDATE ${s}.workflow_steps SET state = 'cancelled', last_error = p_error, completed_at = now(), updated_at = now(),
           lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
     WHERE id = w.id;
    RETURN QUERY SELECT * FROM ${s}._step_moved(t, w.id, w.name, 'in_progress', 'cancelled', w.attempts,
                                                coalesce(p_actor, w.lease_owner), 'task cancelled', p_error, NULL, v_duration);
    RETURN;
  END IF;
  UPDATE ${s}.workflow_steps SET state = 'error', last_error = p_error, exhausted = (p_retry_at IS NULL),
         available_at = coalesce(p_retry_at, available_at), updated_at = now(),
         lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
   WHERE id = w.id;
  IF p_retry_at IS NULL THEN
    UPDATE ${s}.tasks SET steps_failed = steps_failed + 1, updated_at = now() WHERE id = t.id;
  END IF;
  RETURN QUERY SELECT * FROM ${s}._start_if_pending(t.id, w.lease_owner);
  RETURN QUERY SELECT * FROM ${s}._step_moved(t, w.id, w.name, 'in_progress', 'error', w.attempts,
                                              coalesce(p_actor, w.lease_owner), NULL, p_error, p_retry_at, v_duration);
  RETURN QUERY SELECT * FROM ${s}._settle_task(t.id, NULL, NULL);
END $$;

-- Stores a failed attempt (fenced like complete_step).
CREATE FUNCTION ${s}.fail_step(p_step_id bigint, p_token uuid, p_error jsonb, p_retry_at timestamptz)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t ${s}.tasks;
  w ${s}.workflow_steps;
BEGIN
  SELECT x.* INTO t FROM ${s}.tasks x JOIN ${s}.workflow_steps y ON y.task_id = x.id
   WHERE y.id = p_step_id FOR UPDATE OF x;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT * INTO w FROM ${s}.workflow_steps WHERE id = p_step_id AND lease_token = p_token AND state = 'in_progress' FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  RETURN QUERY SELECT * FROM ${s}._record_failure(t, w, p_error, p_retry_at, NULL);
END $$;

-- Gives back an attempt that a stopping worker did not finish: it does not use up an attempt.
CREATE FUNCTION ${s}.release_step(p_step_id bigint, p_token uuid, p_reason text)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t ${s}.tasks;
  w ${s}.workflow_steps;
BEGIN
  SELECT x.* INTO t FROM ${s}.tasks x JOIN ${s}.workflow_steps y ON y.task_id = x.id
   WHERE y.id = p_step_id FOR UPDATE OF x;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT * INTO w FROM ${s}.workflow_steps WHERE id = p_step_id AND lease_token = p_token AND state = 'in_progress' FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  IF t.state = 'cancelled' THEN
    RETURN QUERY SELECT * FROM ${s}._record_failure(t, w, jsonb_build_object('name', 'WorkerShutdown', 'message', p_reason), NULL, NULL);
    RETURN;
  END IF;
  UPDATE ${s}.workflow_steps SET state = 'pending', attempts = greatest(attempts - 1, 0), available_at = now(),
         updated_at = now(), lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
   WHERE id = w.id;
  PERFORM pg_notify('${ch}', '');
  RETURN QUERY SELECT * FROM ${s}._step_moved(t, w.id, w.name, 'in_progress', 'pending', w.attempts, w.lease_owner,
                                              p_reason, NULL, NULL, NULL);
END $$;

-- Extends the leases of running attempts; returns the tokens still owned (a missing one was lost).
CREATE FUNCTION ${s}.renew_leases(p_tokens uuid[], p_lease_ms int)
RETURNS SETOF uuid LANGUAGE sql AS $$
  UPDATE ${s}.workflow_steps SET lease_expires_at = now() + p_lease_ms * interval '1 millisecond'
   WHERE lease_token = ANY (p_tokens) AND state = 'in_progress'
  RETURNING lease_token
$$;

-- The safety net: attempts whose worker stopped renewing the lease fail with LeaseExpiredError
-- and are retried at once while attempts remain.
CREATE FUNCTION ${s}.expire_leases(p_limit int)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql AS $$
DECLARE
  r record;
  t ${s}.tasks;
  w ${s}.workflow_steps;
BEGIN
  FOR r IN SELECT id, task_id FROM ${s}.workflow_steps
            WHERE state = 'in_progress' AND lease_expires_at < now()
            ORDER BY lease_expires_at LIMIT p_limit LOOP
    SELECT * INTO t FROM ${s}.tasks WHERE id = r.task_id FOR UPDATE SKIP LOCKED;
    CONTINUE WHEN NOT FOUND;
    SELECT * INTO w FROM ${s}.workflow_steps
     WHERE id = r.id AND state = 'in_progress' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED;
    CONTINUE WHEN NOT FOUND;
    RETURN QUERY SELECT * FROM ${s}._record_failure(
      t, w,
      jsonb_build_object('name', 'LeaseExpiredError', 'code', 'LEASE_EXPIRED',
                         'message', format('The lease of worker %s expired before the attempt finished.', w.lease_owner)),
      CASE WHEN w.retryable AND w.attempts < w.retry_limit THEN now() ELSE NULL END,
      'tasker:sweeper');
    PERFORM pg_notify('${ch}', '');
  END LOOP;
END $$;

`;
