-- Stores a worker's successful attempts in one statement (element i: step p_ids[i], fenced by its
-- lease token p_tokens[i], results p_results[i]) and everything that follows from them in the
-- same transaction: the tasks' counters and settlement, the dependents one parent closer, the
-- transitions, returned as events in the order they happened (tasks started, then task by task its
-- steps completed and, when they complete it, the task's completion). A step whose token no longer
-- matches lost its lease and was claimed again:
-- its outcome is discarded and it is missing from the answer.
-- The batch's own steps completed and tasks completed come without their task's name, namespace,
-- version, creation time and trace context (NULL): the worker has them from its claims, where
-- they were looked up here, sent and parsed there once per transition.
-- Other transitions (a task started, settled by _settle_task, a map step's) come whole.
--
-- Tasks are locked first and in id order, like every path that changes a task, so concurrent
-- batches of several workers cannot deadlock. Rows are reached by key whatever the statistics
-- say (see claim_steps). complete_one is the same for a single success, with scalar statements.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.complete_steps(p_ids bigint[], p_tokens uuid[], p_results jsonb[])
RETURNS SETOF :TASKER_SCHEMA.transition_event
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  v_tasks bigint[];       -- the batch's tasks, locked, in id order
  v_done bigint[];        -- the steps completed (fenced by their token), by task then id
  v_task_of bigint[];
  v_names text[];
  v_attempts int[];
  v_durations int[];
  v_owners text[];
  v_one_owner boolean;    -- all of the batch's attempts ran on one worker
  v_instances boolean;    -- some of them are instances of map steps
  v_t_ids bigint[];       -- the tasks as updated: id, state before, state after, failed steps, actor
  v_t_old text[];
  v_t_new text[];
  v_t_failed int[];
  v_t_actor text[];
  v_t_parent bigint[];    -- the step of a parent task that waits for it, if any
  v_parents bigint[];
  v_completed bigint[];   -- the tasks this batch completed, in id order, and the states they left
  v_completed_from text[];
  r record;
BEGIN
  SELECT array_agg(l.id ORDER BY l.id) INTO v_tasks
    FROM (SELECT t.id FROM :TASKER_SCHEMA.tasks t
           WHERE t.id IN (SELECT w.task_id FROM unnest(p_ids) x(id)
                            CROSS JOIN LATERAL (SELECT y.task_id FROM :TASKER_SCHEMA.workflow_steps y WHERE y.id = x.id OFFSET 0) w)
           ORDER BY t.id FOR UPDATE OF t) l;
  IF v_tasks IS NULL THEN RETURN; END IF;

  WITH done AS (
    -- Each input row reaches its step by key (a join of the input with itself, or with the steps of
    -- an id list, was a nested loop over both: quadratic in the batch). The worker that ran an
    -- attempt is the actor of its outcome in the audit trail: read before the update clears it.
    UPDATE :TASKER_SCHEMA.workflow_steps w
       SET state = 'complete', results = i.results, completed_at = now(), updated_at = now(),
           lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
      FROM (SELECT u.id, u.token, u.results, b.lease_owner
              FROM unnest(p_ids, p_tokens, p_results) u(id, token, results)
             CROSS JOIN LATERAL (SELECT y.lease_owner FROM :TASKER_SCHEMA.workflow_steps y WHERE y.id = u.id OFFSET 0) b) i
     WHERE w.id = i.id AND w.lease_token = i.token AND (w.state || '') = 'in_progress'
    RETURNING w.id, w.task_id, w.name, w.attempts, w.started_at, i.lease_owner, w.map_step_id
  )
  SELECT array_agg(d.id ORDER BY d.task_id, d.id), array_agg(d.task_id ORDER BY d.task_id, d.id),
         array_agg(d.name ORDER BY d.task_id, d.id), array_agg(d.attempts ORDER BY d.task_id, d.id),
         array_agg((extract(epoch FROM clock_timestamp() - d.started_at) * 1000)::int ORDER BY d.task_id, d.id),
         array_agg(d.lease_owner ORDER BY d.task_id, d.id), count(DISTINCT d.lease_owner) = 1, bool_or(d.map_step_id IS NOT NULL)
    INTO v_done, v_task_of, v_names, v_attempts, v_durations, v_owners, v_one_owner, v_instances
    FROM done d;
  IF v_done IS NULL THEN RETURN; END IF;

  -- Counters and settlement in one write. A success starts a task still pending (its claim could
  -- not lock it); whether a task with a failed step can go on is left to _settle_task below.
  WITH c AS (
    SELECT x.task_id, count(*)::int AS n, min(x.owner) AS actor
      FROM unnest(v_task_of, v_owners) x(task_id, owner) GROUP BY x.task_id
  ), moved AS (
    SELECT c.task_id AS id, c.n, c.actor, t.state AS old_state,
           :TASKER_SCHEMA._task_state(CASE WHEN t.state = 'pending' THEN 'in_progress' ELSE t.state END,
                                      t.steps_done + c.n, t.steps_total, t.steps_failed, NULL) AS new_state
      FROM c CROSS JOIN LATERAL (SELECT y.state, y.steps_done, y.steps_total, y.steps_failed
                                   FROM :TASKER_SCHEMA.tasks y WHERE y.id = c.task_id OFFSET 0) t
  ), upd AS (
    UPDATE :TASKER_SCHEMA.tasks t
       SET steps_done = t.steps_done + m.n, state = m.new_state, updated_at = now(),
           completed_at = CASE WHEN m.new_state = 'complete' AND m.old_state <> 'complete' THEN now() ELSE t.completed_at END
      FROM moved m WHERE t.id = m.id AND t.id = ANY (v_tasks)
    RETURNING t.id, m.old_state, m.new_state, t.steps_failed, m.actor, t.parent_step_id
  )
  SELECT array_agg(u.id ORDER BY u.id), array_agg(u.old_state ORDER BY u.id), array_agg(u.new_state ORDER BY u.id),
         array_agg(u.steps_failed ORDER BY u.id), array_agg(u.actor ORDER BY u.id), array_agg(u.parent_step_id ORDER BY u.id)
    INTO v_t_ids, v_t_old, v_t_new, v_t_failed, v_t_actor, v_t_parent
    FROM upd u;

  -- Transitions in the order they happened: tasks started, steps completed, tasks completed. The
  -- statements for task moves run only when there are some (on a chain's hand-off every statement
  -- saved is a measurable part of its latency).
  IF 'pending' = ANY (v_t_old) THEN
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._tasks_moved(
      v_t_ids, v_t_old,
      ARRAY(SELECT CASE WHEN x.old_state = 'pending' THEN 'in_progress' END FROM unnest(v_t_old) WITH ORDINALITY x(old_state, i) ORDER BY x.i),
      v_t_actor);
  END IF;

  -- A task completed here has its completion stored in the transition of its last step completed
  -- here (see the transitions view), with an id of its own. A row's ids and time are drawn
  -- together, the step's before its task's: each transition's id and time come from one instant,
  -- as a default id and created_at would, so the trail's order by id stays its order in time
  -- whatever another transaction writes meanwhile.
  IF 'complete' = ANY (v_t_new) THEN
    SELECT array_agg(x.id ORDER BY x.i), array_agg(CASE WHEN x.old_state = 'pending' THEN 'in_progress' ELSE x.old_state END ORDER BY x.i)
      INTO v_completed, v_completed_from
      FROM unnest(v_t_ids, v_t_old, v_t_new) WITH ORDINALITY x(id, old_state, new_state, i)
     WHERE x.new_state = 'complete' AND x.old_state <> 'complete';
  END IF;
  RETURN QUERY
  WITH drawn AS (
    SELECT x.task_id, x.step_id, x.name, x.attempt, x.actor, x.duration, x.i, c.k,
           nextval(':TASKER_SCHEMA.transition_seq') AS tid,
           CASE WHEN c.k IS NOT NULL THEN nextval(':TASKER_SCHEMA.transition_seq') END AS task_tid, clock_timestamp() AS at
      FROM unnest(v_task_of, v_done, v_names, v_attempts, v_owners, v_durations) WITH ORDINALITY x(task_id, step_id, name, attempt, actor, duration, i)
     CROSS JOIN LATERAL (SELECT CASE WHEN (x.i = cardinality(v_done) OR v_task_of[x.i + 1] <> x.task_id) AND x.task_id = ANY (v_completed)
                                     THEN array_position(v_completed, x.task_id) END AS k) c
     ORDER BY x.i
  ), logged AS (
    INSERT INTO :TASKER_SCHEMA.workflow_step_transitions
      (id, task_id, step_id, step_name, from_state, to_state, attempt, actor, duration_ms, created_at, task_transition_id, task_from, task_to)
    SELECT d.tid, d.task_id, d.step_id, d.name, 'in_progress', 'complete', d.attempt, d.actor, d.duration, d.at, d.task_tid,
           v_completed_from[d.k], CASE WHEN d.k IS NOT NULL THEN 'complete' END
      FROM drawn d
     ORDER BY d.i
    RETURNING id, task_id, step_id, step_name, attempt, actor, duration_ms, created_at, task_transition_id, task_from
  )
  SELECT e.* FROM (
    SELECT 'step'::text, l.id, l.task_id, NULL::text, NULL::text, NULL::text, l.step_id, l.step_name, 'in_progress'::text, 'complete'::text,
           l.attempt, l.actor, NULL::text, NULL::jsonb, NULL::timestamptz, l.duration_ms, l.created_at, NULL::timestamptz, NULL::jsonb
      FROM logged l
    UNION ALL
    SELECT 'task'::text, l.task_transition_id, l.task_id, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text, l.task_from,
           'complete'::text, NULL::int, NULL::text, NULL::text, NULL::jsonb, NULL::timestamptz, NULL::int, l.created_at, NULL::timestamptz, NULL::jsonb
      FROM logged l WHERE l.task_transition_id IS NOT NULL
  ) e ORDER BY 2;

  IF v_completed IS NOT NULL THEN
    -- Children that completed hand the wait back to their parents' steps.
    v_parents := ARRAY(SELECT x.parent FROM unnest(v_t_old, v_t_new, v_t_parent) x(old_state, new_state, parent)
                        WHERE x.new_state = 'complete' AND x.old_state <> 'complete' AND x.parent IS NOT NULL);
    IF cardinality(v_parents) > 0 THEN PERFORM :TASKER_SCHEMA._child_settled(v_parents); END IF;
  END IF;

  -- Signed by the worker whose steps these were: it claims the dependents itself right after this
  -- commit, so its listener skips the signal. Other workers wake as usual.
  IF (SELECT p.ready FROM :TASKER_SCHEMA._parents_done(v_done, false) p) THEN
    PERFORM :TASKER_SCHEMA._wake(CASE WHEN v_one_owner THEN 'ready:' || v_owners[1] ELSE '' END);
  END IF;

  IF v_instances THEN
    FOR r IN SELECT x.task_id, array_agg(x.id) AS ids FROM unnest(v_task_of, v_done) x(task_id, id) GROUP BY x.task_id ORDER BY x.task_id LOOP
      RETURN QUERY SELECT i.* FROM :TASKER_SCHEMA.tasks y
                    CROSS JOIN LATERAL :TASKER_SCHEMA._instances_finished(y, r.ids, true, true) i WHERE y.id = r.task_id;
    END LOOP;
  END IF;

  IF 0 < ANY (v_t_failed) OR 'error' = ANY (v_t_new) THEN
    FOR r IN SELECT x.id FROM unnest(v_t_ids, v_t_new, v_t_failed) x(id, new_state, failed)
              WHERE x.new_state NOT IN ('complete', 'cancelled', 'resolved_manually') AND (x.failed > 0 OR x.new_state = 'error')
              ORDER BY x.id LOOP
      RETURN QUERY SELECT * FROM :TASKER_SCHEMA._settle_task(r.id, NULL, NULL);
    END LOOP;
  END IF;
END $$;
