-- Claims up to p_limit ready steps of the given task types for worker p_owner (which steps, in
-- which order, and what flow control lets through: _pick_steps), each with a fresh lease token, and
-- answers with one row per claim, in claim order; a first row with only `wake_at` says when steps
-- held back by a rate limit may start, or, when it claims nothing, when the first step of these
-- types becomes ready. A claim row also says what its start recorded in the audit
-- trail: the attempt's transition (start_id, start_from, start_at) and, when this claim started the
-- task, the task's (task_start_id, task_start_at, on every row of that task; stored in the transition
-- of the task's first attempt claimed here, see the transitions view). The worker builds the
-- events from them: an answer row per transition, built as JSON here and parsed there, cost about a
-- tenth of a plain job's database CPU, and more of the worker's.
-- A waiting step is ready when its wait can end (its time came, its child task settled): it is
-- claimed back without using an attempt, and its claim carries `resume` (how the wait ended, with
-- the child task's state and results) for the worker to record instead of running the body.
--
-- Invariants:
-- - One owner per attempt: ready rows are taken FOR UPDATE SKIP LOCKED, so concurrent workers
--   neither wait for nor take each other's rows; the lease token fences every later outcome.
-- - Readiness costs what the ready rows cost: the pick reads the partial indexes of unfinished,
--   unblocked steps, never the history.
-- - Deadlock-free: everywhere else a task is locked before its steps; the claim, which finds steps
--   before it knows their tasks, only takes task locks with SKIP LOCKED. A task being changed by
--   someone else right now is not started here; its first outcome starts it (_start_if_pending).
-- - Every row is reached by key whatever the statistics say (the plan is generic and cached; a
--   queue's statistics are stale by nature): LATERAL (... OFFSET 0) lookups, an extra
--   id = ANY (...) where a join needs a selective condition, (state || '') where the state index
--   would read every pending task of a backlog, no sequential scans, no JIT (a lookup of a few
--   rows estimated costly would be compiled, which takes far longer than running it).
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.claim_steps(p_owner text, p_types int[], p_limit int, p_lease_ms int, p_fair int, p_aging_ms int)
RETURNS TABLE (claim :TASKER_SCHEMA.claimed_step, wake_at timestamptz)
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  v_picked bigint[];      -- the steps to claim (locked), and when rate limits let the next ones start
  v_wake timestamptz;
  v_ids bigint[];         -- the claimed steps, in claim order, and their task, name, attempt, state before
  v_tasks bigint[];
  v_names text[];
  v_attempts int[];
  v_old text[];
  v_pending bigint[];     -- their tasks still pending
  v_started bigint[];     -- those of them this claim started, and their transitions' ids and times
  v_task_ids bigint[];
  v_task_at timestamptz[];
  v_firsts bigint[];      -- the positions of their first attempts in the claim, whose transitions carry their starts
  v_rated boolean;        -- some of them count against a rate limit
  v_start_ids bigint[];   -- the attempts' transitions, in claim order: ids and times
  v_start_at timestamptz[];
  v_clock timestamptz;
BEGIN
  SELECT p.ids, p.wake_at INTO v_picked, v_wake FROM :TASKER_SCHEMA._pick_steps(p_types, p_limit, p_fair, p_aging_ms) p;
  -- Nothing to take: when does the first step of these types become ready (a rate limit's delay, a
  -- retry's backoff, a run_at)? The claim that set such a time told its own worker, but a claim made
  -- before that time (by another process; by a worker whose clock runs ahead of the database's; by
  -- one whose single timer was already set for an earlier time, and kept it) would otherwise leave
  -- its worker to the next poll, up to pollIntervalMs per rate window. Only times
  -- still ahead by the clock: a step that came due since this transaction began (a task created
  -- meanwhile) has its NOTIFY, and a wake-up for it would only add a claim. One read of the ready
  -- index from the clock on; held steps ('infinity') wait for a slot, not a time.
  IF v_wake IS NULL AND cardinality(v_picked) = 0 THEN
    v_clock := clock_timestamp();
    SELECT w.available_at INTO v_wake FROM :TASKER_SCHEMA.workflow_steps w
     WHERE w.state IN ('pending', 'error', 'waiting') AND NOT w.exhausted AND w.parents_done = w.parents_total
       AND w.available_at > v_clock AND w.available_at < 'infinity' AND w.named_task_id = ANY (p_types)
     ORDER BY w.available_at LIMIT 1;
  END IF;
  IF v_wake IS NOT NULL THEN
    RETURN QUERY SELECT CAST(NULL AS :TASKER_SCHEMA.claimed_step), v_wake;
  END IF;
  IF cardinality(v_picked) = 0 THEN RETURN; END IF;
  WITH picked AS (
    SELECT w.id, w.state AS old_state
      FROM unnest(v_picked) x(id)
     CROSS JOIN LATERAL (SELECT y.id, y.state FROM :TASKER_SCHEMA.workflow_steps y WHERE y.id = x.id OFFSET 0) w
  ), claimed AS (
    UPDATE :TASKER_SCHEMA.workflow_steps w
       SET state = 'in_progress', attempts = w.attempts + CASE WHEN picked.old_state = 'waiting' THEN 0 ELSE 1 END, lease_owner = p_owner,
           lease_token = gen_random_uuid(), lease_expires_at = now() + p_lease_ms * interval '1 millisecond',
           -- The clock, not the transaction's start: a start recorded after the claim took its slot
           -- (which a previous attempt freed when it committed) never appears to overlap that attempt.
           started_at = clock_timestamp(), completed_at = NULL, updated_at = now()
      FROM picked WHERE w.id = picked.id AND w.id = ANY (v_picked)
    RETURNING w.id, w.task_id, w.name, w.attempts, picked.old_state,
              CASE WHEN picked.old_state <> 'waiting' THEN w.rate_key END AS rate_key, array_position(v_picked, w.id) AS o
  )
  SELECT array_agg(c.id ORDER BY c.o), array_agg(c.task_id ORDER BY c.o), array_agg(c.name ORDER BY c.o),
         array_agg(c.attempts ORDER BY c.o), array_agg(c.old_state ORDER BY c.o), bool_or(c.rate_key IS NOT NULL)
    INTO v_ids, v_tasks, v_names, v_attempts, v_old, v_rated FROM claimed c;
  IF v_ids IS NULL THEN RETURN; END IF;


  -- Most claims start no task (a chain's next step, a DAG's later levels): a plain read finds the
  -- pending tasks, and the statement that locks and starts them runs only when there are some.
  SELECT array_agg(t.id) INTO v_pending FROM :TASKER_SCHEMA.tasks t
   WHERE t.id = ANY (ARRAY(SELECT DISTINCT unnest(v_tasks))) AND (t.state || '') = 'pending';
  IF v_pending IS NOT NULL THEN
    WITH lockable AS (
      SELECT t.id FROM :TASKER_SCHEMA.tasks t
       WHERE t.id = ANY (v_pending) AND (t.state || '') = 'pending'
       ORDER BY t.id FOR UPDATE SKIP LOCKED
    ), started AS (
      UPDATE :TASKER_SCHEMA.tasks t SET state = 'in_progress', updated_at = now() FROM lockable l WHERE t.id = l.id RETURNING t.id
    )
    SELECT array_agg(s.id ORDER BY s.id) INTO v_started FROM started s;
    IF v_started IS NOT NULL THEN
      -- A task's start is stored in the transition of its first attempt claimed here (see the
      -- transitions view), with an id of its own.
      v_firsts := ARRAY(SELECT min(x.i) FROM unnest(v_tasks) WITH ORDINALITY x(task_id, i) WHERE x.task_id = ANY (v_started) GROUP BY x.task_id);
    END IF;
  END IF;

  -- A row's ids and time are drawn together, the task's start before its attempt's: each
  -- transition's id and time come from one instant, as a default id and created_at would, so the
  -- trail's order by id stays its order in time whatever another transaction writes meanwhile.
  WITH drawn AS (
    SELECT x.task_id, x.id, x.name, x.old_state, x.attempt, x.i,
           CASE WHEN x.i = ANY (v_firsts) THEN nextval(':TASKER_SCHEMA.transition_seq') END AS task_tid,
           nextval(':TASKER_SCHEMA.transition_seq') AS tid, clock_timestamp() AS at
      FROM unnest(v_tasks, v_ids, v_names, v_old, v_attempts) WITH ORDINALITY x(task_id, id, name, old_state, attempt, i)
     ORDER BY x.i
  ), logged AS (
    INSERT INTO :TASKER_SCHEMA.workflow_step_transitions
      (id, task_id, step_id, step_name, from_state, to_state, attempt, actor, created_at, task_transition_id, task_from, task_to)
    SELECT d.tid, d.task_id, d.id, d.name, d.old_state, 'in_progress', d.attempt, p_owner, d.at, d.task_tid,
           CASE WHEN d.task_tid IS NOT NULL THEN 'pending' END, CASE WHEN d.task_tid IS NOT NULL THEN 'in_progress' END
      FROM drawn d
     ORDER BY d.i
    RETURNING id, created_at, task_id, task_transition_id
  )
  SELECT array_agg(l.id ORDER BY l.id), array_agg(l.created_at ORDER BY l.id),
         array_agg(l.task_transition_id ORDER BY l.task_id) FILTER (WHERE l.task_transition_id IS NOT NULL),
         array_agg(l.created_at ORDER BY l.task_id) FILTER (WHERE l.task_transition_id IS NOT NULL)
    INTO v_start_ids, v_start_at, v_task_ids, v_task_at FROM logged l;

  -- Each attempt's start joins its rate window (the last `lim` starts of each key) as the audit
  -- trail dates it: after the claim took its place in the window, and after the step's started_at,
  -- so the window holds in both. A wait taken back is no new attempt: it counts against no rate.
  IF v_rated THEN
    UPDATE :TASKER_SCHEMA.rate_windows k
       SET starts = ARRAY(SELECT x FROM unnest(k.starts || r.starts) x ORDER BY x DESC LIMIT k.lim)
      FROM (SELECT w.rate_key, array_agg(i.at) AS starts
              FROM unnest(v_ids, v_old, v_start_at) i(id, old_state, at)
             CROSS JOIN LATERAL (SELECT y.rate_key FROM :TASKER_SCHEMA.workflow_steps y WHERE y.id = i.id OFFSET 0) w
             WHERE w.rate_key IS NOT NULL AND i.old_state <> 'waiting' GROUP BY w.rate_key) r
     WHERE k.key = r.rate_key;
  END IF;

  RETURN QUERY
  SELECT CAST(ROW(w.id, w.task_id, w.name, w.attempts, w.retry_limit, w.retryable, w.timeout_ms, w.backoff, w.lease_token,
             w.started_at, t.name, t.namespace, t.version, t.state, t.context, t.tags,
             -- The parents' results; a skipped parent has none. An instance has its item instead: its
             -- map step's parents' results, as large as the items often are, would travel once per item.
             CASE WHEN w.map_step_id IS NOT NULL THEN '{}'::jsonb ELSE
             (SELECT coalesce(jsonb_object_agg(p.name, p.results), '{}'::jsonb)
                FROM :TASKER_SCHEMA.workflow_step_edges e
               CROSS JOIN LATERAL (SELECT y.name, y.results, y.state FROM :TASKER_SCHEMA.workflow_steps y WHERE y.id = e.from_step_id OFFSET 0) p
               WHERE e.to_step_id = w.id AND p.state <> 'skipped') END,
             t.trace_context, w.map_index, w.item,
             CASE WHEN x.old_state = 'waiting' THEN w.wait || coalesce((
               SELECT jsonb_build_object('state', c.state, 'results',
                        (SELECT coalesce(jsonb_object_agg(cs.name, cs.results), '{}'::jsonb) FROM :TASKER_SCHEMA.workflow_steps cs
                          WHERE cs.task_id = c.id AND cs.state IN ('complete', 'resolved_manually') AND cs.map_step_id IS NULL))
                 FROM :TASKER_SCHEMA.tasks c WHERE w.wait->>'kind' = 'child' AND c.id = (w.wait->>'taskId')::bigint), '{}'::jsonb)
             END,
             x.start_id, x.old_state, x.start_at,
             v_task_ids[array_position(v_started, w.task_id)], v_task_at[array_position(v_started, w.task_id)], t.created_at
             ) AS :TASKER_SCHEMA.claimed_step), NULL::timestamptz
    FROM unnest(v_ids, v_old, v_start_ids, v_start_at) WITH ORDINALITY x(id, old_state, start_id, start_at, i)
   CROSS JOIN LATERAL (SELECT * FROM :TASKER_SCHEMA.workflow_steps y WHERE y.id = x.id OFFSET 0) w
   CROSS JOIN LATERAL (SELECT * FROM :TASKER_SCHEMA.tasks y WHERE y.id = w.task_id OFFSET 0) t
   ORDER BY x.i;
END $$;
