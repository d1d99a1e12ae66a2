-- Dynamic workflows: steps decided, multiplied and held at run time.
--
-- Two step states join: skipped (its condition was false, or every parent was skipped: it counts
-- as done for its dependents) and waiting (its body ran; it holds no worker slot and waits for a
-- signal, a child task, a time, or its map instances). A waiting step whose wait can end by time
-- (a sleep, a signal's timeout) or has ended (its child task finished) is ready again from its
-- available_at: the claim takes it like any ready step, and the worker records how the wait ended
-- without running the body again. So the ready index now holds waiting steps too.

ALTER TABLE :TASKER_SCHEMA.workflow_steps DROP CONSTRAINT workflow_steps_state_check;
ALTER TABLE :TASKER_SCHEMA.workflow_steps ADD CONSTRAINT workflow_steps_state_check
  CHECK (state IN ('pending','in_progress','complete','error','cancelled','resolved_manually','skipped','waiting'));

ALTER TABLE :TASKER_SCHEMA.workflow_steps
  -- Skipped parents among the finished ones: the join rule is arithmetic on the row (every
  -- parent finished, and at least one not skipped unless the step is a root).
  ADD COLUMN parents_skipped  int NOT NULL DEFAULT 0,
  -- What a waiting step waits for: {"kind":"signal","name":…,"timeoutMs":…},
  -- {"kind":"child","taskId":…}, {"kind":"sleep","until":…} or {"kind":"map"}. Kept after the wait
  -- ended, so a retry knows which child to retry.
  ADD COLUMN wait             jsonb,
  -- A map step's instances: the map step, the position of its item, and the item itself.
  ADD COLUMN map_step_id      bigint,
  ADD COLUMN map_index        int,
  ADD COLUMN item             jsonb,
  -- On a map step: its instances, how many finished (complete, resolved or skipped), and how
  -- many may run at once (instances beyond it wait with parents_done < parents_total and are let
  -- through, lowest index first, as others finish).
  ADD COLUMN map_total        int,
  ADD COLUMN map_done         int,
  ADD COLUMN max_parallel     int;

ALTER TABLE :TASKER_SCHEMA.named_steps
  ADD COLUMN max_parallel     int;

DROP INDEX :TASKER_SCHEMA.workflow_steps_ready_idx;
CREATE INDEX workflow_steps_ready_idx ON :TASKER_SCHEMA.workflow_steps (available_at, id)
  WHERE state IN ('pending','error','waiting') AND NOT exhausted AND parents_done = parents_total;
-- A map step's instances in item order (its results, in order), and those still held back by
-- maxParallel (the next to let through, found without reading the finished ones).
CREATE INDEX workflow_steps_map_idx ON :TASKER_SCHEMA.workflow_steps (map_step_id, map_index) WHERE map_step_id IS NOT NULL;
CREATE INDEX workflow_steps_held_idx ON :TASKER_SCHEMA.workflow_steps (map_step_id, map_index)
  WHERE map_step_id IS NOT NULL AND parents_done < parents_total;

-- Child tasks: the task and the waiting step that started them, which completes (or fails) with them.
ALTER TABLE :TASKER_SCHEMA.tasks
  ADD COLUMN parent_task_id   bigint,
  ADD COLUMN parent_step_id   bigint,
  ADD COLUMN parent_step_name text;
CREATE INDEX tasks_parent_idx ON :TASKER_SCHEMA.tasks (parent_task_id) WHERE parent_task_id IS NOT NULL;

-- Signals sent to a task, one per name: kept until a step waits for it (a signal may come first),
-- then delivered (delivered_at, step_id). A second one of the same name is refused.
CREATE TABLE :TASKER_SCHEMA.signals (
  -- From the transitions' sequence: a signal's event takes its place among the task's transitions.
  id            bigint NOT NULL DEFAULT nextval(':TASKER_SCHEMA.transition_seq'),
  task_id       bigint NOT NULL,
  name          text NOT NULL,
  payload       jsonb,
  actor         text,
  reason        text,
  created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  delivered_at  timestamptz,
  step_id       bigint,
  PRIMARY KEY (task_id, name)
);

-- _parents_done now also counts skipped parents: a new signature, whose body comes from its file
-- (IF EXISTS: on a new schema the functions are created after every DDL migration).
DROP FUNCTION IF EXISTS :TASKER_SCHEMA._parents_done(bigint[]);

-- Claims answer with what an instance or a resumed wait needs.
ALTER TYPE :TASKER_SCHEMA.claimed_step
  ADD ATTRIBUTE map_index int,
  ADD ATTRIBUTE item jsonb,
  ADD ATTRIBUTE resume jsonb;
