-- Fewer index entries per job. Every non-HOT update of a task and every transition inserts one
-- entry in each index of its table, so an index that only some rows need should only hold those.
--
-- A task's tags are indexed only when it has some: most tasks have none, and a GIN entry for an
-- empty array also rewrites the index's metapage (its pending list) on every update of the task.
DROP INDEX :TASKER_SCHEMA.tasks_tags_idx;
CREATE INDEX tasks_tags_idx ON :TASKER_SCHEMA.tasks USING gin (tags) WHERE tags <> '{}';

-- The transitions are only ever read per task, in the order they happened: one index on
-- (task_id, id) serves that and keeps the ids unique, where two (id; task_id, id) cost twice.
ALTER TABLE :TASKER_SCHEMA.task_transitions DROP CONSTRAINT task_transitions_pkey;
DROP INDEX :TASKER_SCHEMA.task_transitions_task_idx;
ALTER TABLE :TASKER_SCHEMA.task_transitions ADD CONSTRAINT task_transitions_pkey PRIMARY KEY (task_id, id);
ALTER TABLE :TASKER_SCHEMA.workflow_step_transitions DROP CONSTRAINT workflow_step_transitions_pkey;
DROP INDEX :TASKER_SCHEMA.workflow_step_transitions_task_idx;
ALTER TABLE :TASKER_SCHEMA.workflow_step_transitions ADD CONSTRAINT workflow_step_transitions_pkey PRIMARY KEY (task_id, id);

-- Room on each page for the next versions of its rows: a task and its steps are updated a few
-- times each (claimed, completed), and a version that fits on its page costs one page and no
-- extra lock record, where a full page sends it to another one. Applies to pages written from now.
ALTER TABLE :TASKER_SCHEMA.tasks SET (fillfactor = 80);
ALTER TABLE :TASKER_SCHEMA.workflow_steps SET (fillfactor = 80);
