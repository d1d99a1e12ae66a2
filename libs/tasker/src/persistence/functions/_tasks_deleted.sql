-- Deleting tasks removes their rows (steps, edges, transitions, signals), which carry no foreign key to
-- the task: one DELETE per table and statement, set-based, where a cascading key ran per row.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._tasks_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM :TASKER_SCHEMA.workflow_step_edges e USING :TASKER_SCHEMA.workflow_steps w, gone g
   WHERE w.task_id = g.id AND e.from_step_id = w.id;
  DELETE FROM :TASKER_SCHEMA.workflow_step_transitions x USING gone g WHERE x.task_id = g.id;
  DELETE FROM :TASKER_SCHEMA.task_transitions x USING gone g WHERE x.task_id = g.id;
  DELETE FROM :TASKER_SCHEMA.signals x USING gone g WHERE x.task_id = g.id;
  DELETE FROM :TASKER_SCHEMA.workflow_steps x USING gone g WHERE x.task_id = g.id;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS tasks_deleted ON :TASKER_SCHEMA.tasks;
CREATE TRIGGER tasks_deleted AFTER DELETE ON :TASKER_SCHEMA.tasks
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION :TASKER_SCHEMA._tasks_deleted();
