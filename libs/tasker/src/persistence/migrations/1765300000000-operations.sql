-- Operating at scale. The failures inbox reads the steps that failed for good; the retention sweep
-- finds finished tasks oldest first. Both through partial indexes that hold only those rows, so
-- that neither reads the live work, nor the work the indexes of the hot path.
CREATE INDEX IF NOT EXISTS workflow_steps_failed_idx ON :TASKER_SCHEMA.workflow_steps (task_id)
  WHERE state = 'error' AND exhausted;
CREATE INDEX IF NOT EXISTS tasks_finished_idx ON :TASKER_SCHEMA.tasks (completed_at)
  WHERE state IN ('complete', 'cancelled', 'resolved_manually');
