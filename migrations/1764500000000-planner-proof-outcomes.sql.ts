/**
 * The hand-off of a step, leaner: complete_steps and claim_steps again, with plans that stay on
 * primary keys whatever the statistics say, and complete_one, the completion of a single success
 * with scalar statements (a chain's every hand-off). Also create_tasks_returning (below).
 *
 * Plans. Found by a loop of chain hand-offs (bench): each hand-off got slower as the
 * tables grew (0.8 ms → 1.3 ms per step over 6,000 steps, back to 0.6 after a VACUUM), because on
 * a young schema the generic plans, made with stale statistics, chose
 * - a sequential scan of workflow_steps to add one to a dependent's parents_done (0.44 ms of a
 *   0.7 ms statement with 6,000 rows: it grows with history),
 * - a bitmap scan of the lease index (every in-progress row version, 5,000 entries) to find the
 *   step being completed,
 * - sequential scans of tasks for the counters and for the tasks a claim starts.
 * Now every row is reached through its key: an extra `id = ANY (ids)` gives the planner the
 * selective condition it needs, `(state || '')` keeps the partial lease index out of the
 * completion, and `enable_seqscan = off` (in these two functions only) rules out the scans that
 * a table's stale row count makes look cheap. Same behaviour and contracts as 1764300000000;
 * claim_steps also skips the statement that starts pending tasks when none of its tasks is pending.
 * `s` is the quoted schema, `ch` the NOTIFY channel that wakes workers.
 */
export const plannerProofOutcomesSql = (s: string, ch: string) => `
CREATE OR REPLACE FUNCTION ${s}.complete_steps(p_ids bigint[], p_tokens uuid[], p_results jsonb[])
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  v_tasks bigint[];       -- the batch's tasks, locked, in id order
  v_states text[];        -- their states before this batch
  v_done bigint[];        -- the steps completed (fenced by their token), by task then id
  v_task_of bigint[];
  v_names text[];
  v_attempts int[];
  v_started timestamptz[];
  v_owners text[];
  v_one_owner boolean;    -- all of the batch's attempts ran on one worker
  v_t_ids bigint[];       -- the tasks as updated: id, state before, state after, failed steps, actor
  v_t_old text[];
  v_t_new text[];
  v_t_failed int[];
  v_t_actor text[];
  v_ready boolean;
  r record;
BEGIN
  SELECT array_agg(l.id ORDER BY l.id), array_agg(l.state ORDER BY l.id) INTO v_tasks, v_states
    FROM (SELECT t.id, t.state FROM ${s}.tasks t
           WHERE t.id IN (SELECT w.task_id FROM unnest(p_ids) x(id)
                            CROSS JOIN LATERAL (SELECT y.task_id FROM ${s}.workflow_steps y WHERE y.id = x.id OFFSET 0) w)
           ORDER BY t.id FOR UPDATE OF t) l;
  IF v_tasks IS NULL THEN RETURN; END IF;

  WITH input AS (
    SELECT * FROM unnest(p_ids, p_tokens, p_results) u(id, token, results)
  ), before AS (
    -- The worker that ran an attempt is the actor of its outcome in the audit trail.
    SELECT i.id, b.lease_owner FROM input i
     CROSS JOIN LATERAL (SELECT y.lease_owner FROM ${s}.workflow_steps y WHERE y.id = i.id OFFSET 0) b
  ), done AS (
    UPDATE ${s}.workflow_steps w
       SET state = 'complete', results = i.results, completed_at = now(), updated_at = now(),
           lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
      FROM input i JOIN before b ON b.id = i.id
     WHERE w.id = i.id AND w.id = ANY (p_ids) AND w.lease_token = i.token AND (w.state || '') = 'in_progress'
    RETURNING w.id, w.task_id, w.name, w.attempts, w.started_at, b.lease_owner
  )
  SELECT array_agg(d.id ORDER BY d.task_id, d.id), array_agg(d.task_id ORDER BY d.task_id, d.id),
         array_agg(d.name ORDER BY d.task_id, d.id), array_agg(d.attempts ORDER BY d.task_id, d.id),
         array_agg(d.started_at ORDER BY d.task_id, d.id), array_agg(d.lease_owner ORDER BY d.task_id, d.id),
         count(DISTINCT d.lease_owner) = 1
    INTO v_done, v_task_of, v_names, v_attempts, v_started, v_owners, v_one_owner
    FROM done d;
  IF v_done IS NULL THEN RETURN; END IF;

  -- Counters, and the common settlements in the same write: a task still pending (its claim could
  -- not lock it) starts, a task whose last steps these were completes. A task with a failed step
  -- goes through _settle_task below, like after complete_step.
  WITH c AS (
    SELECT x.task_id, count(*)::int AS n, min(x.owner) AS actor
      FROM unnest(v_task_of, v_owners) x(task_id, owner) GROUP BY x.task_id
  ), upd AS (
    UPDATE ${s}.tasks t
       SET steps_done = t.steps_done + c.n, updated_at = now(),
           state = CASE WHEN t.state IN ('complete', 'cancelled', 'resolved_manually') THEN t.state
                        WHEN t.steps_done + c.n = t.steps_total THEN 'complete'
                        WHEN t.state = 'pending' THEN 'in_progress'
                        ELSE t.state END,
           completed_at = CASE WHEN t.state NOT IN ('complete', 'cancelled', 'resolved_manually')
                                    AND t.steps_done + c.n = t.steps_total THEN now() ELSE t.completed_at END
      FROM c WHERE t.id = c.task_id AND t.id = ANY (v_tasks)
    RETURNING t.id, t.state, t.steps_failed, c.actor
  )
  SELECT array_agg(u.id ORDER BY u.id), array_agg(o.old_state ORDER BY u.id), array_agg(u.state ORDER BY u.id),
         array_agg(u.steps_failed ORDER BY u.id), array_agg(u.actor ORDER BY u.id)
    INTO v_t_ids, v_t_old, v_t_new, v_t_failed, v_t_actor
    FROM upd u JOIN unnest(v_tasks, v_states) o(id, old_state) ON o.id = u.id;

  -- Transitions in the order they happened: tasks started, steps completed, tasks completed.
  -- (Each statement is skipped when it has nothing to write: on a chain's step every statement
  -- saved is a measurable part of the step's latency.)
  IF 'pending' = ANY (v_t_old) THEN
  RETURN QUERY
  WITH logged AS (
    INSERT INTO ${s}.task_transitions (task_id, from_state, to_state, actor)
    SELECT x.id, 'pending', 'in_progress', x.actor
      FROM unnest(v_t_ids, v_t_old, v_t_new, v_t_actor) x(id, old_state, new_state, actor)
     WHERE x.old_state = 'pending' AND x.new_state <> 'pending'
     ORDER BY x.id
    RETURNING *
  )
  SELECT 'task', l.id, l.task_id, t.name, t.namespace, t.version, NULL::bigint, NULL::text, l.from_state, l.to_state,
         NULL::int, l.actor, l.reason, NULL::jsonb, NULL::timestamptz, NULL::int, l.created_at, t.created_at, t.trace_context
    FROM logged l CROSS JOIN LATERAL (SELECT * FROM ${s}.tasks y WHERE y.id = l.task_id OFFSET 0) t;
  END IF;

  RETURN QUERY
  WITH logged AS (
    INSERT INTO ${s}.workflow_step_transitions (task_id, step_id, step_name, from_state, to_state, attempt, actor, duration_ms)
    SELECT d.task_id, d.id, d.name, 'in_progress', 'complete', d.attempt, d.owner,
           (extract(epoch FROM clock_timestamp() - d.started_at) * 1000)::int
      FROM unnest(v_task_of, v_done, v_names, v_attempts, v_started, v_owners) WITH ORDINALITY d(task_id, id, name, attempt, started_at, owner, i)
     ORDER BY d.i
    RETURNING *
  )
  SELECT 'step', l.id, l.task_id, t.name, t.namespace, t.version, l.step_id, l.step_name, l.from_state, l.to_state,
         l.attempt, l.actor, l.reason, l.error, l.next_retry_at, l.duration_ms, l.created_at, t.created_at, t.trace_context
    FROM logged l CROSS JOIN LATERAL (SELECT * FROM ${s}.tasks y WHERE y.id = l.task_id OFFSET 0) t;

  IF 'complete' = ANY (v_t_new) THEN
  RETURN QUERY
  WITH logged AS (
    INSERT INTO ${s}.task_transitions (task_id, from_state, to_state, actor)
    SELECT x.id, CASE WHEN x.old_state = 'pending' THEN 'in_progress' ELSE x.old_state END, 'complete', NULL
      FROM unnest(v_t_ids, v_t_old, v_t_new) x(id, old_state, new_state)
     WHERE x.new_state = 'complete' AND x.old_state <> 'complete'
     ORDER BY x.id
    RETURNING *
  )
  SELECT 'task', l.id, l.task_id, t.name, t.namespace, t.version, NULL::bigint, NULL::text, l.from_state, l.to_state,
         NULL::int, l.actor, l.reason, NULL::jsonb, NULL::timestamptz, NULL::int, l.created_at, t.created_at, t.trace_context
    FROM logged l CROSS JOIN LATERAL (SELECT * FROM ${s}.tasks y WHERE y.id = l.task_id OFFSET 0) t;
  END IF;

  -- Dependents one parent closer to ready; wake the workers when one became ready.
  WITH parents AS (
    SELECT e.to_step_id AS id, count(*)::int AS n
      FROM unnest(v_done) x(id)
     CROSS JOIN LATERAL (SELECT y.to_step_id FROM ${s}.workflow_step_edges y WHERE y.from_step_id = x.id OFFSET 0) e
     GROUP BY e.to_step_id
  ), u AS (
    UPDATE ${s}.workflow_steps c SET parents_done = c.parents_done + p.n, updated_at = now()
      FROM parents p WHERE c.id = p.id AND c.id = ANY (ARRAY(SELECT q.id FROM parents q))
    RETURNING c.parents_done = c.parents_total AND c.state IN ('pending', 'error') AS ready
  )
  SELECT bool_or(u.ready) INTO v_ready FROM u;
  -- Signed by the worker whose steps these were: it claims the dependents itself right after this
  -- commit, so its listener skips the signal (an extra claim racing the real one cost a round
  -- trip per step of a chain). Other workers wake as usual.
  IF v_ready THEN
    PERFORM pg_notify('${ch}', CASE WHEN v_one_owner THEN 'ready:' || v_owners[1] ELSE '' END);
  END IF;

  IF 0 < ANY (v_t_failed) OR 'error' = ANY (v_t_new) THEN
    FOR r IN SELECT x.id FROM unnest(v_t_ids, v_t_new, v_t_failed) x(id, new_state, failed)
              WHERE x.new_state NOT IN ('complete', 'cancelled', 'resolved_manually') AND (x.failed > 0 OR x.new_state = 'error')
              ORDER BY x.id LOOP
      RETURN QUERY SELECT * FROM ${s}._settle_task(r.id, NULL, NULL);
    END LOOP;
  END IF;
END $$;

-- One success: what complete_steps does for a batch, for a single step, with scalar statements.
-- A worker that is not busy stores its successes one at a time (a chain's every step), and the
-- set-based statements cost more than the writes for one row: arrays, sorts and joins to set up
-- (measured: a chain's hand-off 0.63 ms with complete_steps, 0.48 ms with this). Same rules,
-- same transitions in the same order, same events; the worker calls it for a batch of one.
-- p_wake false: no NOTIFY for the dependents made ready; the caller claims in the same transaction
-- and wakes the workers only for those it left (_wake_for_unclaimed).
CREATE FUNCTION ${s}.complete_one(p_id bigint, p_token uuid, p_results jsonb, p_wake boolean DEFAULT true)
RETURNS SETOF ${s}.transition_event LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  t ${s}.tasks;           -- the task, locked, as it was before this outcome
  v_owner text;
  v_name text;
  v_attempt int;
  v_started timestamptz;
  v_new text;
  v_failed int;
  v_ready boolean;
BEGIN
  -- The task first (every path locks the task before its steps); the worker that ran the attempt
  -- is the actor of its outcome in the audit trail.
  SELECT x.* INTO t FROM ${s}.tasks x
   WHERE x.id = (SELECT y.task_id FROM ${s}.workflow_steps y WHERE y.id = p_id) FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT y.lease_owner INTO v_owner FROM ${s}.workflow_steps y WHERE y.id = p_id;

  UPDATE ${s}.workflow_steps w
     SET state = 'complete', results = p_results, completed_at = now(), updated_at = now(),
         lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
   WHERE w.id = p_id AND w.lease_token = p_token AND (w.state || '') = 'in_progress'
  RETURNING w.name, w.attempts, w.started_at INTO v_name, v_attempt, v_started;
  IF NOT FOUND THEN RETURN; END IF; -- the lease was lost: the outcome is discarded

  UPDATE ${s}.tasks x
     SET steps_done = x.steps_done + 1, updated_at = now(),
         state = CASE WHEN x.state IN ('complete', 'cancelled', 'resolved_manually') THEN x.state
                      WHEN x.steps_done + 1 = x.steps_total THEN 'complete'
                      WHEN x.state = 'pending' THEN 'in_progress'
                      ELSE x.state END,
         completed_at = CASE WHEN x.state NOT IN ('complete', 'cancelled', 'resolved_manually')
                                  AND x.steps_done + 1 = x.steps_total THEN now() ELSE x.completed_at END
   WHERE x.id = t.id
  RETURNING x.state, x.steps_failed INTO v_new, v_failed;

  -- Transitions in the order they happened: task started, step completed, task completed.
  IF t.state = 'pending' AND v_new <> 'pending' THEN
    RETURN QUERY
    WITH logged AS (
      INSERT INTO ${s}.task_transitions (task_id, from_state, to_state, actor)
      VALUES (t.id, 'pending', 'in_progress', v_owner) RETURNING *
    )
    SELECT 'task', l.id, l.task_id, t.name, t.namespace, t.version, NULL::bigint, NULL::text, l.from_state, l.to_state,
           NULL::int, l.actor, l.reason, NULL::jsonb, NULL::timestamptz, NULL::int, l.created_at, t.created_at, t.trace_context
      FROM logged l;
  END IF;

  RETURN QUERY
  WITH logged AS (
    INSERT INTO ${s}.workflow_step_transitions (task_id, step_id, step_name, from_state, to_state, attempt, actor, duration_ms)
    VALUES (t.id, p_id, v_name, 'in_progress', 'complete', v_attempt, v_owner,
            (extract(epoch FROM clock_timestamp() - v_started) * 1000)::int)
    RETURNING *
  )
  SELECT 'step', l.id, l.task_id, t.name, t.namespace, t.version, l.step_id, l.step_name, l.from_state, l.to_state,
         l.attempt, l.actor, l.reason, l.error, l.next_retry_at, l.duration_ms, l.created_at, t.created_at, t.trace_context
    FROM logged l;

  IF v_new = 'complete' AND t.state <> 'complete' THEN
    RETURN QUERY
    WITH logged AS (
      INSERT INTO ${s}.task_transitions (task_id, from_state, to_state, actor)
      VALUES (t.id, CASE WHEN t.state = 'pending' THEN 'in_progress' ELSE t.state END, 'complete', NULL) RETURNING *
    )
    SELECT 'task', l.id, l.task_id, t.name, t.namespace, t.version, NULL::bigint, NULL::text, l.from_state, l.to_state,
           NULL::int, l.actor, l.reason, NULL::jsonb, NULL::timestamptz, NULL::int, l.created_at, t.created_at, t.trace_context
      FROM logged l;
  END IF;

  -- Dependents one parent closer to ready (one edge each from this step); wake the workers when
  -- one became ready, signed by this worker, which claims them itself right after (see complete_steps).
  WITH u AS (
    UPDATE ${s}.workflow_steps c SET parents_done = c.parents_done + 1, updated_at = now()
     WHERE c.id = ANY (ARRAY(SELECT e.to_step_id FROM ${s}.workflow_step_edges e WHERE e.from_step_id = p_id))
    RETURNING c.parents_done = c.parents_total AND c.state IN ('pending', 'error') AS ready
  )
  SELECT bool_or(u.ready) INTO v_ready FROM u;
  IF v_ready AND p_wake THEN
    PERFORM pg_notify('${ch}', 'ready:' || v_owner);
  END IF;

  IF v_new NOT IN ('complete', 'cancelled', 'resolved_manually') AND (v_failed > 0 OR v_new = 'error') THEN
    RETURN QUERY SELECT * FROM ${s}._settle_task(t.id, NULL, NULL);
  END IF;
END $$;

-- After complete_one(..., false) and the claim in the same statement: wakes the workers (other
-- than p_owner, by the signature) only when a dependent of the step is ready and still unclaimed.
-- A chain's next step is claimed by the worker that completed the previous one, so its hand-offs
-- no longer wake every listening worker (and its own listener) for nothing.
CREATE FUNCTION ${s}._wake_for_unclaimed(p_step_id bigint, p_owner text)
RETURNS void LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
  -- From the step to its dependents, each through its key (LATERAL ... OFFSET 0): left to itself,
  -- the planner of a young schema may read every step in index order and look up its edges.
  IF EXISTS (SELECT 1 FROM ${s}.workflow_step_edges e
              CROSS JOIN LATERAL (SELECT 1 FROM ${s}.workflow_steps c
                                   WHERE c.id = e.to_step_id AND c.parents_done = c.parents_total
                                     AND (c.state || '') IN ('pending', 'error') OFFSET 0) c
              WHERE e.from_step_id = p_step_id) THEN
    PERFORM pg_notify('${ch}', 'ready:' || p_owner);
  END IF;
END $$;

-- create_tasks, answering with the task rows as they were created, in the same statement. Reading
-- them back in a second statement raced the workers: a worker woken by the creation's NOTIFY could
-- start the task in between, and createTask answered 'in_progress' for a task it had just created
-- (found by test/admin-tasks.e2e-spec.ts in a CI run). One round-trip less, too. The rows are read
-- in a second statement of this function, which sees the first one's inserts; for an idempotency
-- key already used, the existing task as it is now.
CREATE FUNCTION ${s}.create_tasks_returning(p_requests jsonb)
RETURNS TABLE (idx int, created boolean, task ${s}.tasks) LANGUAGE plpgsql AS $$
DECLARE
  v_idx int[];
  v_ids bigint[];
  v_created boolean[];
BEGIN
  SELECT array_agg(c.idx ORDER BY c.idx), array_agg(c.task_id ORDER BY c.idx), array_agg(c.created ORDER BY c.idx)
    INTO v_idx, v_ids, v_created
    FROM ${s}.create_tasks(p_requests) c;
  RETURN QUERY
  SELECT x.i, x.c, t FROM unnest(v_idx, v_ids, v_created) x(i, id, c)
    JOIN ${s}.tasks t ON t.id = x.id
   ORDER BY x.i;
END $$;

CREATE OR REPLACE FUNCTION ${s}.claim_steps(p_owner text, p_types int[], p_limit int, p_lease_ms int)
RETURNS TABLE (step_id bigint, task_id bigint, step_name text, attempt int, retry_limit int, retryable boolean,
               timeout_ms int, backoff jsonb, lease_token uuid, claimed_at timestamptz,
               task_name text, namespace text, version text, task_state text, context jsonb, tags text[],
               parent_results jsonb, task_started boolean, trace_context jsonb)
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  v_ids bigint[];
  v_tasks bigint[];
  v_old text[];
  v_names text[];
  v_attempts int[];
  v_started bigint[];
  v_pending bigint[];
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
      FROM picked WHERE w.id = picked.id AND w.id = ANY (ARRAY(SELECT q.id FROM picked q))
    RETURNING w.id, w.task_id, w.name, w.attempts, picked.old_state
  )
  SELECT array_agg(c.id ORDER BY c.id), array_agg(c.task_id ORDER BY c.id), array_agg(c.old_state ORDER BY c.id),
         array_agg(c.name ORDER BY c.id), array_agg(c.attempts ORDER BY c.id)
    INTO v_ids, v_tasks, v_old, v_names, v_attempts FROM claimed c;
  IF v_ids IS NULL THEN RETURN; END IF;

  -- Most claims start no task (a chain's next step, a DAG's later levels): a plain read finds the
  -- pending tasks, and the statement that locks, starts and logs them (two writes to set up, a
  -- measurable part of a chain's hand-off) runs only when there are some. A task being changed by
  -- someone else right now is skipped; its first outcome starts it.
  -- (state || '') keeps the planner on the primary key: the state index, chosen when statistics
  -- say few tasks are pending, reads every pending task of a backlog.
  SELECT array_agg(t.id) INTO v_pending FROM ${s}.tasks t
   WHERE t.id = ANY (ARRAY(SELECT DISTINCT unnest(v_tasks))) AND (t.state || '') = 'pending';
  IF v_pending IS NOT NULL THEN
  WITH lockable AS (
    SELECT t.id FROM ${s}.tasks t
     WHERE t.id = ANY (v_pending) AND (t.state || '') = 'pending'
     ORDER BY t.id FOR UPDATE SKIP LOCKED
  ), started AS (
    UPDATE ${s}.tasks t SET state = 'in_progress', updated_at = now() FROM lockable l WHERE t.id = l.id RETURNING t.id
  ), logged AS (
    INSERT INTO ${s}.task_transitions (task_id, from_state, to_state, actor)
    SELECT id, 'pending', 'in_progress', p_owner FROM started ORDER BY id RETURNING task_transitions.task_id
  )
  SELECT array_agg(l.task_id) INTO v_started FROM logged l;
  END IF;

  INSERT INTO ${s}.workflow_step_transitions (task_id, step_id, step_name, from_state, to_state, attempt, actor)
  SELECT o.task_id, o.id, o.name, o.old_state, 'in_progress', o.attempt, p_owner
    FROM unnest(v_tasks, v_ids, v_names, v_old, v_attempts) WITH ORDINALITY o(task_id, id, name, old_state, attempt, i)
   ORDER BY o.i;

  RETURN QUERY
  SELECT w.id, w.task_id, w.name, w.attempts, w.retry_limit, w.retryable, w.timeout_ms, w.backoff, w.lease_token,
         w.started_at, t.name, t.namespace, t.version, t.state, t.context, t.tags,
         (SELECT coalesce(jsonb_object_agg(p.name, p.results), '{}'::jsonb)
            FROM ${s}.workflow_step_edges e
           CROSS JOIN LATERAL (SELECT y.name, y.results FROM ${s}.workflow_steps y WHERE y.id = e.from_step_id OFFSET 0) p
           WHERE e.to_step_id = w.id),
         w.task_id = ANY (coalesce(v_started, '{}'::bigint[])), t.trace_context
    FROM unnest(v_ids) WITH ORDINALITY x(id, i)
   CROSS JOIN LATERAL (SELECT * FROM ${s}.workflow_steps y WHERE y.id = x.id OFFSET 0) w
   CROSS JOIN LATERAL (SELECT * FROM ${s}.tasks y WHERE y.id = w.task_id OFFSET 0) t
   ORDER BY x.i;
END $$;
`;
