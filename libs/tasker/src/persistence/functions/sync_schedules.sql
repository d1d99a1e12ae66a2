-- Records the schedules a process declares for one task type version (at boot, after
-- register_task_type), and answers with the expressions it removed. p_schedules is a JSON array of
-- {cron, timezone, context, nextRunAt}. New schedules are added, paused when the same expression of
-- another version of the task is paused (a deploy never resumes what an operator paused); declared
-- ones take the declared time zone and context (a new time zone starts over from its next tick;
-- otherwise next_run_at stays, so a tick missed while no process ran fires now); the ones the code
-- no longer declares are removed. Serialized per task with register_task_type, pause and resume.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.sync_schedules(p_type_id int, p_schedules jsonb)
RETURNS TABLE (removed text) LANGUAGE plpgsql AS $$
DECLARE
  v_ns int;
  v_ns_name text;
  v_name text;
BEGIN
  SELECT nt.namespace_id, ns.name, nt.name INTO v_ns, v_ns_name, v_name
    FROM :TASKER_SCHEMA.named_tasks nt JOIN :TASKER_SCHEMA.namespaces ns ON ns.id = nt.namespace_id
   WHERE nt.id = p_type_id;
  PERFORM pg_advisory_xact_lock(hashtext('tasker-type:' || v_ns_name || '/' || v_name));

  RETURN QUERY
  DELETE FROM :TASKER_SCHEMA.schedules s
   WHERE s.named_task_id = p_type_id AND s.cron NOT IN (SELECT x->>'cron' FROM jsonb_array_elements(p_schedules) x)
  RETURNING s.cron;

  UPDATE :TASKER_SCHEMA.schedules s
     SET context = x->'context', declared_at = now(), timezone = x->>'timezone',
         next_run_at = CASE WHEN s.timezone = x->>'timezone' THEN s.next_run_at ELSE (x->>'nextRunAt')::timestamptz END
    FROM jsonb_array_elements(p_schedules) x
   WHERE s.named_task_id = p_type_id AND s.cron = x->>'cron';

  INSERT INTO :TASKER_SCHEMA.schedules (named_task_id, cron, timezone, context, next_run_at, paused)
  SELECT p_type_id, x->>'cron', x->>'timezone', x->'context', (x->>'nextRunAt')::timestamptz,
         EXISTS (SELECT 1 FROM :TASKER_SCHEMA.schedules o JOIN :TASKER_SCHEMA.named_tasks ont ON ont.id = o.named_task_id
                  WHERE ont.namespace_id = v_ns AND ont.name = v_name AND o.cron = x->>'cron' AND o.paused)
    FROM jsonb_array_elements(p_schedules) x
  ON CONFLICT (named_task_id, cron) DO NOTHING;
END $$;
