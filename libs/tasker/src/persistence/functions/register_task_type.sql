-- Records a task type's definition (as the process that has its handler sees it) and returns its
-- id. Serialized per type, so processes booting together agree. A version's steps are fixed once
-- recorded: a definition whose steps differ (see _definition_shape) is refused (TK412, DETAIL:
-- the recorded definition), since a replica still running the old code would overwrite it back
-- and run other steps. What may change in place: descriptions, backoffs, and the concurrency and
-- rate limits, which apply to the type's keys' slot and window rows at once; tasks already
-- created keep the steps and edges they were created with.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.register_task_type(p_def jsonb) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v_ns int;
  v_id int;
  v_old jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('tasker-type:' || (p_def->>'namespace') || '/' || (p_def->>'name')));
  INSERT INTO :TASKER_SCHEMA.namespaces (name) VALUES (p_def->>'namespace') ON CONFLICT (name) DO NOTHING;
  SELECT id INTO v_ns FROM :TASKER_SCHEMA.namespaces WHERE name = p_def->>'namespace';
  SELECT id, definition INTO v_id, v_old FROM :TASKER_SCHEMA.named_tasks
   WHERE namespace_id = v_ns AND name = p_def->>'name' AND version = p_def->>'version';
  IF v_id IS NOT NULL AND v_old = p_def THEN RETURN v_id; END IF;
  IF v_id IS NOT NULL AND :TASKER_SCHEMA._definition_shape(v_old) IS DISTINCT FROM :TASKER_SCHEMA._definition_shape(p_def) THEN
    RAISE EXCEPTION 'Task type %/%@% is already recorded with other steps.', p_def->>'namespace', p_def->>'name', p_def->>'version'
      USING ERRCODE = 'TK412', DETAIL = v_old::text;
  END IF;
  IF v_id IS NULL THEN
    INSERT INTO :TASKER_SCHEMA.named_tasks (namespace_id, name, version, description, definition, concurrency)
    VALUES (v_ns, p_def->>'name', p_def->>'version', p_def->>'description', p_def, p_def->'concurrency') RETURNING id INTO v_id;
  ELSE
    UPDATE :TASKER_SCHEMA.named_tasks SET definition = p_def, description = p_def->>'description', concurrency = p_def->'concurrency',
           updated_at = now()
     WHERE id = v_id;
  END IF;
  UPDATE :TASKER_SCHEMA.named_tasks SET limited = p_def->'concurrency' IS NOT NULL
         OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_def->'steps') x WHERE x->'concurrency' IS NOT NULL OR x->'rateLimit' IS NOT NULL)
   WHERE id = v_id;
  DELETE FROM :TASKER_SCHEMA.named_steps
   WHERE named_task_id = v_id AND name NOT IN (SELECT x->>'name' FROM jsonb_array_elements(p_def->'steps') x);
  INSERT INTO :TASKER_SCHEMA.named_steps (named_task_id, name, position, description, retry_limit, retryable, timeout_ms, backoff, parents_total,
                                           max_parallel, concurrency, rate_limit)
  SELECT v_id, x->>'name', (o - 1)::int, x->>'description', (x->>'retryLimit')::int, (x->>'retryable')::boolean,
         (x->>'timeoutMs')::int, x->'backoff', jsonb_array_length(x->'dependsOn'), (x->>'maxParallel')::int, x->'concurrency', x->'rateLimit'
    FROM jsonb_array_elements(p_def->'steps') WITH ORDINALITY AS e(x, o)
  ON CONFLICT (named_task_id, name) DO UPDATE
     SET position = EXCLUDED.position, description = EXCLUDED.description, retry_limit = EXCLUDED.retry_limit,
         retryable = EXCLUDED.retryable, timeout_ms = EXCLUDED.timeout_ms, backoff = EXCLUDED.backoff,
         parents_total = EXCLUDED.parents_total, max_parallel = EXCLUDED.max_parallel, concurrency = EXCLUDED.concurrency,
         rate_limit = EXCLUDED.rate_limit;
  -- Limits changed in code apply to the keys already in use (a slot row holds the limit it enforces).
  UPDATE :TASKER_SCHEMA.slots s SET lim = (p_def->'concurrency'->>'limit')::int
   WHERE p_def->'concurrency' IS NOT NULL AND s.key LIKE format('task:%s/%s:', p_def->>'namespace', p_def->>'name') || '%';
  UPDATE :TASKER_SCHEMA.slots s SET lim = (x->'concurrency'->>'limit')::int
    FROM jsonb_array_elements(p_def->'steps') x
   WHERE x->'concurrency' IS NOT NULL AND s.key LIKE format('step:%s/%s/%s:', p_def->>'namespace', p_def->>'name', x->>'name') || '%';
  UPDATE :TASKER_SCHEMA.rate_windows w SET lim = (x->'rateLimit'->>'limit')::int, period_ms = (x->'rateLimit'->>'periodMs')::int
    FROM jsonb_array_elements(p_def->'steps') x
   WHERE x->'rateLimit' IS NOT NULL AND w.key LIKE format('rate:%s:', x->'rateLimit'->>'bucket') || '%';
  DELETE FROM :TASKER_SCHEMA.named_step_edges WHERE named_task_id = v_id;
  INSERT INTO :TASKER_SCHEMA.named_step_edges (named_task_id, from_named_step_id, to_named_step_id, from_position, to_position)
  SELECT v_id, f.id, c.id, f.position, c.position
    FROM jsonb_array_elements(p_def->'steps') x
   CROSS JOIN jsonb_array_elements_text(x->'dependsOn') d(dep)
    JOIN :TASKER_SCHEMA.named_steps c ON c.named_task_id = v_id AND c.name = x->>'name'
    JOIN :TASKER_SCHEMA.named_steps f ON f.named_task_id = v_id AND f.name = d.dep;
  RETURN v_id;
END $$;
