-- Sends signal p_name to a task: a step waiting for it completes with p_payload; with none waiting,
-- the signal is kept and delivered when a step waits for it (so a signal sent early is not lost).
-- One signal per name and task: a second one is refused (TK409). Returns the signal's own event
-- (kind 'signal': step_name is the signal's name) and the transitions of its delivery.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.signal_task(p_task_id bigint, p_name text, p_payload jsonb, p_actor text, p_reason text)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  t :TASKER_SCHEMA.tasks := :TASKER_SCHEMA._lock_task(p_task_id);
  s :TASKER_SCHEMA.signals;
  r record;
BEGIN
  IF t.state IN ('complete', 'cancelled', 'resolved_manually') THEN
    RAISE EXCEPTION 'Task % is %; it can no longer receive signals.', p_task_id, t.state USING ERRCODE = 'TK409', DETAIL = t.state;
  END IF;
  INSERT INTO :TASKER_SCHEMA.signals (task_id, name, payload, actor, reason) VALUES (t.id, p_name, p_payload, p_actor, p_reason)
  ON CONFLICT (task_id, name) DO NOTHING
  RETURNING * INTO s;
  IF NOT FOUND THEN
    SELECT * INTO s FROM :TASKER_SCHEMA.signals WHERE task_id = t.id AND name = p_name;
    RAISE EXCEPTION 'Task % already received signal "%" (%); a signal is sent once per task.', p_task_id, p_name,
      CASE WHEN s.delivered_at IS NULL THEN 'kept until a step waits for it' ELSE 'delivered' END
      USING ERRCODE = 'TK409', DETAIL = 'signal';
  END IF;
  RETURN QUERY SELECT 'signal'::text, s.id, t.id, t.name, t.namespace, t.version, NULL::bigint, s.name, NULL::text, 'received'::text,
                      NULL::int, s.actor, s.reason, NULL::jsonb, NULL::timestamptz, NULL::int, s.created_at, t.created_at, t.trace_context;
  FOR r IN SELECT w.id FROM :TASKER_SCHEMA.workflow_steps w
            WHERE w.task_id = t.id AND w.state = 'waiting' AND w.wait->>'kind' = 'signal' AND w.wait->>'name' = p_name
            ORDER BY w.id LOOP
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._deliver_signal(t, r.id, s);
  END LOOP;
END $$;
