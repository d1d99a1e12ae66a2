-- Why each step of a task is or is not ready, as the claim would see it now (the same conditions
-- as claim_steps' pick, explained), in the task's step order (a map step's instances after it).
-- Codes for the states a claim decides on (ready, waiting_for_dependencies, …); for what holds a
-- step in the dynamic states, a sentence: 'waiting for signal "approved"', 'waiting for child task
-- 42', 'sleeping until …', 'waiting for 3 of 10 instances', 'condition false'.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.step_readiness(p_task_id bigint)
RETURNS TABLE (step_id bigint, step_name text, state text, ready boolean, reason text, parents_done int,
               parents_total int, attempts int, retry_limit int, available_at timestamptz)
-- PL/pgSQL, so its plan is made once per connection (inlined as SQL, it was planned on every call:
-- 1.5 ms), without JIT (on a task of 10,000 steps the plan's estimate passed jit_above_cost, and
-- compiling it took 62 of the statement's 72 ms in EXPLAIN ANALYZE, running it the other 10) and
-- with rows reached by key: the slots' and rate windows' tables hold a row per key ever used.
LANGUAGE plpgsql STABLE SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT w.id, w.name, w.state,
         r.reason = 'ready', r.reason, w.parents_done, w.parents_total, w.attempts, w.retry_limit, w.available_at
    FROM :TASKER_SCHEMA.workflow_steps w
    JOIN :TASKER_SCHEMA.tasks t ON t.id = w.task_id
   CROSS JOIN LATERAL (SELECT CASE
           WHEN w.state IN ('complete', 'resolved_manually') THEN 'done'
           WHEN w.state = 'cancelled' THEN 'cancelled'
           WHEN w.state = 'in_progress' THEN 'running'
           WHEN w.state = 'skipped' AND w.parents_total > 0 AND w.parents_skipped = w.parents_total THEN 'all parents skipped'
           WHEN w.state = 'skipped' THEN 'condition false'
           WHEN w.state = 'waiting' THEN CASE w.wait->>'kind'
             WHEN 'signal' THEN format('waiting for signal "%s"', w.wait->>'name')
                                || CASE WHEN w.wait ? 'until' THEN format(' until %s', to_char((w.wait->>'until')::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) ELSE '' END
             WHEN 'child' THEN format('waiting for child task %s', w.wait->>'taskId')
             WHEN 'sleep' THEN format('sleeping until %s', to_char(w.available_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
             WHEN 'map' THEN format('waiting for %s of %s instances', w.map_total - w.map_done, w.map_total)
                             -- (by task: the index of failed steps is by task, and read whole it holds every task's)
                             || coalesce((SELECT format(' (%s failed)', count(*)) FROM :TASKER_SCHEMA.workflow_steps i
                                           WHERE i.task_id = w.task_id AND i.map_step_id = w.id AND i.state = 'error' AND i.exhausted
                                          HAVING count(*) > 0), '')
             ELSE 'waiting' END
           WHEN w.exhausted THEN 'attempts_exhausted'
           WHEN w.held_key IS NOT NULL THEN (
             SELECT format('concurrency limit (%s: %s/%s running)', regexp_replace(substr(k.key, length(split_part(k.key, ':', 1)) + 2), ':$', ''),
                           k.running, k.lim)
               FROM :TASKER_SCHEMA.slots k WHERE k.key = w.held_key)
           WHEN w.rate_key IS NOT NULL AND w.available_at > now() AND w.state = 'pending' AND w.parents_done = w.parents_total
                AND t.run_at IS DISTINCT FROM w.available_at
                AND (SELECT count(*) >= k.lim FROM :TASKER_SCHEMA.rate_windows k, unnest(k.starts) x
                      WHERE k.key = w.rate_key AND x > now() - k.period_ms * interval '1 millisecond' GROUP BY k.lim) THEN (
             SELECT format('rate limited (%s: %s/%s per %s)', regexp_replace(substr(k.key, 6), ':$', ''),
                           (SELECT count(*) FROM unnest(k.starts) x WHERE x > now() - k.period_ms * interval '1 millisecond'), k.lim,
                           CASE WHEN k.period_ms % 1000 = 0 THEN (k.period_ms / 1000) || ' s' ELSE k.period_ms || ' ms' END)
               FROM :TASKER_SCHEMA.rate_windows k WHERE k.key = w.rate_key)
           WHEN t.state IN ('cancelled', 'complete', 'resolved_manually') THEN 'task_finished'
           WHEN w.map_step_id IS NOT NULL AND w.parents_done < w.parents_total THEN
             format('waiting for a free place (maxParallel %s)', (SELECT m.max_parallel FROM :TASKER_SCHEMA.workflow_steps m WHERE m.id = w.map_step_id))
           WHEN w.parents_done < w.parents_total THEN 'waiting_for_dependencies'
           WHEN w.available_at > now() AND w.state = 'error' THEN 'waiting_for_retry'
           WHEN w.available_at > now() THEN 'not_before_run_at'
           ELSE 'ready' END AS reason) r
   WHERE w.task_id = p_task_id
   ORDER BY w.position, w.map_index NULLS FIRST;
END $$;
