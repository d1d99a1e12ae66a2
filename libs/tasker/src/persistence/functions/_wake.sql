-- Wakes the workers that LISTEN on this schema's channel. Payloads: '' (new work for anyone),
-- 'ready:<owner>' (dependents made ready by <owner>'s own outcomes: that worker claims them
-- itself and ignores the signal), 'cancel:<task id>' (abort the task's running attempts).
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._wake(p_payload text)
RETURNS void LANGUAGE sql AS $$
  SELECT pg_notify(:TASKER_WAKE_CHANNEL, p_payload)
$$;
