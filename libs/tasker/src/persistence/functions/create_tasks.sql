-- Instantiates tasks from their registered definitions and answers with each task row as created,
-- by request index (1-based), in the same statement: a worker woken by this transaction's NOTIFY may
-- start a task right after commit, and the creator must still see what it created. p_requests is a
-- JSON array of {namedTaskId, context, tags, initiator, sourceSystem, reason, idempotencyKey, runAt,
-- actor, traceContext, parentTaskId, parentStepId, parentStepName, priority, concurrencyKey}; the actor (who created it, e.g. an API key's name) defaults to the
-- initiator (on whose behalf, a business field). With an idempotency key already used (per
-- namespace and name), the existing task comes back as it is now, with created = false.
-- Concurrency and rate keys are fixed here, from the context (a dotted path; a missing value is the
-- key ''), and their slot and window rows made if new.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.create_tasks(p_requests jsonb)
RETURNS TABLE (idx int, created boolean, task :TASKER_SCHEMA.tasks)
-- Rows are reached by key whatever the statistics say (see claim_steps): on a young table a plan
-- cached from a guess of its size scanned every task once per task created. Plans are generic: the
-- statements run once per task created, and left to choose, Postgres planned the steps' and edges'
-- inserts anew for every task (their custom plans looked cheaper), which took longer than running them.
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  r record;
  v_task bigint;
  v_ids bigint[];
  v_idx int[] := '{}';
  v_tasks bigint[] := '{}';
  v_created boolean[] := '{}';
  v_new :TASKER_SCHEMA.tasks;
BEGIN
  -- The slot and window rows of the batch's keys, made first and in key order: two batches that
  -- bring the same new keys then wait for each other in one order instead of deadlocking. Only
  -- for task types with limits (a lookup by key per request, not a join over every step template).
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_requests) e
              CROSS JOIN LATERAL (SELECT nt.limited FROM :TASKER_SCHEMA.named_tasks nt WHERE nt.id = (e.value->>'namedTaskId')::int OFFSET 0) nt
              WHERE nt.limited) THEN
  WITH req AS (
    SELECT e.value AS v, nt.id AS type_id, ns.name AS namespace, nt.name, nt.concurrency
      FROM jsonb_array_elements(p_requests) e
      JOIN :TASKER_SCHEMA.named_tasks nt ON nt.id = (e.value->>'namedTaskId')::int
      JOIN :TASKER_SCHEMA.namespaces ns ON ns.id = nt.namespace_id
  ), keys AS (
    SELECT format('task:%s/%s:%s', q.namespace, q.name,
                  coalesce(q.v->>'concurrencyKey', q.v->'context' #>> string_to_array(q.concurrency->>'key', '.'), '')) AS key,
           (q.concurrency->>'limit')::int AS lim
      FROM req q WHERE q.concurrency IS NOT NULL
    UNION
    SELECT format('step:%s/%s/%s:%s', q.namespace, q.name, st.name,
                  coalesce(q.v->'context' #>> string_to_array(st.concurrency->>'key', '.'), '')), (st.concurrency->>'limit')::int
      FROM req q JOIN :TASKER_SCHEMA.named_steps st ON st.named_task_id = q.type_id WHERE st.concurrency IS NOT NULL
  ), windows AS (
    INSERT INTO :TASKER_SCHEMA.rate_windows (key, lim, period_ms)
    SELECT DISTINCT ON (k.key) k.key, k.lim, k.period_ms
      FROM (SELECT format('rate:%s:%s', st.rate_limit->>'bucket', coalesce(q.v->'context' #>> string_to_array(st.rate_limit->>'key', '.'), '')) AS key,
                   (st.rate_limit->>'limit')::int AS lim, (st.rate_limit->>'periodMs')::int AS period_ms
              FROM req q JOIN :TASKER_SCHEMA.named_steps st ON st.named_task_id = q.type_id WHERE st.rate_limit IS NOT NULL) k
     ORDER BY k.key
    ON CONFLICT (key) DO NOTHING
  )
  INSERT INTO :TASKER_SCHEMA.slots (key, lim)
  SELECT DISTINCT ON (k.key) k.key, k.lim FROM keys k ORDER BY k.key
  ON CONFLICT (key) DO NOTHING;
  END IF;

  -- Keyed requests first, in one global order (namespace, name, key): concurrent batches sharing
  -- keys then queue on each other's unique-index entries instead of deadlocking. Others keep
  -- request order; the answer is by idx either way.
  FOR r IN SELECT e.value AS v, e.ordinality::int AS i
             FROM jsonb_array_elements(p_requests) WITH ORDINALITY e
             LEFT JOIN :TASKER_SCHEMA.named_tasks knt ON e.value->>'idempotencyKey' IS NOT NULL AND knt.id = (e.value->>'namedTaskId')::int
             LEFT JOIN :TASKER_SCHEMA.namespaces kns ON kns.id = knt.namespace_id
            ORDER BY e.value->>'idempotencyKey' IS NULL, kns.name, knt.name, e.value->>'idempotencyKey', e.ordinality LOOP
    v_new := NULL;
    INSERT INTO :TASKER_SCHEMA.tasks (named_task_id, namespace, name, version, context, tags, initiator, source_system,
                                      reason, idempotency_key, run_at, steps_total, trace_context, parent_task_id, parent_step_id,
                                      parent_step_name, priority, slot_key)
    SELECT nt.id, ns.name, nt.name, nt.version, coalesce(r.v->'context', '{}'::jsonb),
           coalesce(ARRAY(SELECT jsonb_array_elements_text(r.v->'tags')), '{}'::text[]),
           r.v->>'initiator', r.v->>'sourceSystem', r.v->>'reason', r.v->>'idempotencyKey',
           (r.v->>'runAt')::timestamptz,
           (SELECT count(*) FROM :TASKER_SCHEMA.named_steps st WHERE st.named_task_id = nt.id), r.v->'traceContext',
           (r.v->>'parentTaskId')::bigint, (r.v->>'parentStepId')::bigint, r.v->>'parentStepName',
           coalesce((r.v->>'priority')::smallint, 0),
           CASE WHEN nt.concurrency IS NOT NULL THEN format('task:%s/%s:%s', ns.name, nt.name,
             coalesce(r.v->>'concurrencyKey', r.v->'context' #>> string_to_array(nt.concurrency->>'key', '.'), '')) END
      FROM :TASKER_SCHEMA.named_tasks nt JOIN :TASKER_SCHEMA.namespaces ns ON ns.id = nt.namespace_id
     WHERE nt.id = (r.v->>'namedTaskId')::int
    ON CONFLICT (namespace, name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING * INTO v_new;
    v_task := v_new.id;

    IF v_task IS NULL THEN
      SELECT x.id INTO v_task FROM :TASKER_SCHEMA.tasks x
        JOIN :TASKER_SCHEMA.named_tasks nt ON nt.id = (r.v->>'namedTaskId')::int
        JOIN :TASKER_SCHEMA.namespaces ns ON ns.id = nt.namespace_id
       WHERE x.namespace = ns.name AND x.name = nt.name AND x.idempotency_key = r.v->>'idempotencyKey';
      IF v_task IS NULL THEN
        RAISE EXCEPTION 'task type % is not registered', r.v->>'namedTaskId' USING ERRCODE = 'TK404';
      END IF;
      v_idx := v_idx || r.i; v_tasks := v_tasks || v_task; v_created := v_created || false;
      CONTINUE;
    END IF;

    -- Steps are numbered by position (0..n-1); edges are wired by array index, not by joining the
    -- rows just inserted (whose statistics are stale: a join planned on them was quadratic).
    WITH ins AS (
      INSERT INTO :TASKER_SCHEMA.workflow_steps (task_id, named_task_id, named_step_id, name, position, retry_limit, retryable,
                                                 timeout_ms, backoff, parents_total, available_at, priority, slot_key, rate_key,
                                                 task_slot_key)
      SELECT v_task, st.named_task_id, st.id, st.name, st.position, st.retry_limit, st.retryable, st.timeout_ms,
             st.backoff, st.parents_total, greatest(now(), coalesce((r.v->>'runAt')::timestamptz, now())), v_new.priority,
             CASE WHEN st.concurrency IS NOT NULL THEN format('step:%s/%s/%s:%s', v_new.namespace, v_new.name, st.name,
               coalesce(v_new.context #>> string_to_array(st.concurrency->>'key', '.'), '')) END,
             CASE WHEN st.rate_limit IS NOT NULL THEN format('rate:%s:%s', st.rate_limit->>'bucket',
               coalesce(v_new.context #>> string_to_array(st.rate_limit->>'key', '.'), '')) END,
             v_new.slot_key
        FROM :TASKER_SCHEMA.named_steps st
       WHERE st.named_task_id = (r.v->>'namedTaskId')::int
      RETURNING id, position
    )
    SELECT array_agg(ins.id ORDER BY ins.position) INTO v_ids FROM ins;

    INSERT INTO :TASKER_SCHEMA.workflow_step_edges (task_id, from_step_id, to_step_id)
    SELECT v_task, v_ids[e.from_position + 1], v_ids[e.to_position + 1]
      FROM :TASKER_SCHEMA.named_step_edges e
     WHERE e.named_task_id = (r.v->>'namedTaskId')::int;

    INSERT INTO :TASKER_SCHEMA.task_transitions (task_id, from_state, to_state, actor, reason)
    VALUES (v_task, NULL, 'pending', coalesce(r.v->>'actor', r.v->>'initiator'), r.v->>'reason');
    v_idx := v_idx || r.i; v_tasks := v_tasks || v_task; v_created := v_created || true;
  END LOOP;
  IF true = ANY (v_created) THEN PERFORM :TASKER_SCHEMA._wake(''); END IF;

  -- Read in a statement of its own, which sees this function's inserts.
  RETURN QUERY
  SELECT x.i, x.c, (SELECT y FROM :TASKER_SCHEMA.tasks y WHERE y.id = x.id)
    FROM unnest(v_idx, v_tasks, v_created) x(i, id, c)
   ORDER BY x.i;
END $$;
