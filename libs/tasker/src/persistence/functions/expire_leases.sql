-- The safety net: attempts whose worker stopped renewing the lease (crashed, stalled, cut off) fail
-- with LeaseExpiredError, and are ready again at once while attempts remain. Rows another
-- transaction holds are skipped, never waited for: the next sweep gets them.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA.expire_leases(p_limit int)
RETURNS SETOF :TASKER_SCHEMA.transition_event LANGUAGE plpgsql AS $$
DECLARE
  r record;
  t :TASKER_SCHEMA.tasks;
  w :TASKER_SCHEMA.workflow_steps;
BEGIN
  FOR r IN SELECT id, task_id FROM :TASKER_SCHEMA.workflow_steps
            WHERE state = 'in_progress' AND lease_expires_at < now()
            ORDER BY lease_expires_at LIMIT p_limit LOOP
    SELECT * INTO t FROM :TASKER_SCHEMA.tasks WHERE id = r.task_id FOR UPDATE SKIP LOCKED;
    CONTINUE WHEN NOT FOUND;
    SELECT * INTO w FROM :TASKER_SCHEMA.workflow_steps
     WHERE id = r.id AND state = 'in_progress' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED;
    CONTINUE WHEN NOT FOUND;
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._record_failure(
      t, w,
      jsonb_build_object('name', 'LeaseExpiredError', 'code', 'LEASE_EXPIRED',
                         'message', format('The lease of worker %s expired before the attempt finished.', w.lease_owner)),
      CASE WHEN w.retryable AND w.attempts < w.retry_limit THEN now() ELSE NULL END,
      'tasker:sweeper');
    PERFORM :TASKER_SCHEMA._wake('');
  END LOOP;
END $$;
