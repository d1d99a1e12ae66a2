-- Cron schedules: one row per (task type version, cron expression), written at boot by each process
-- that has the handler (sync_schedules). A process with a worker fires the due rows of its own task
-- types: one transaction takes a due row FOR UPDATE SKIP LOCKED, creates the tick's task (its
-- idempotency key is derived from the expression and the tick) and moves next_run_at past now.

CREATE TABLE :TASKER_SCHEMA.schedules (
  id             serial PRIMARY KEY,
  named_task_id  int NOT NULL REFERENCES :TASKER_SCHEMA.named_tasks(id) ON DELETE CASCADE,
  cron           text NOT NULL,               -- as declared, fields separated by one space
  timezone       text NOT NULL DEFAULT 'UTC', -- IANA name the expression is read in
  context        jsonb NOT NULL DEFAULT '{}', -- the context of each task it creates
  next_run_at    timestamptz NOT NULL,        -- the next tick (in the past: due)
  last_run_at    timestamptz,                 -- the tick of the last task it created
  last_task_id   bigint,
  -- The last tick that could not create its task (skipped), and why.
  last_error     text,
  paused         boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  -- When a process that has the handler last declared it (each boot): an old version's schedule
  -- that no process declares any more keeps its last declaration time.
  declared_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (named_task_id, cron)
);
-- The sweep's question, "which rows of these types are due", reads only unpaused rows in time order.
CREATE INDEX schedules_due_idx ON :TASKER_SCHEMA.schedules (next_run_at, named_task_id) WHERE NOT paused;

-- Who paused or resumed which schedule, when and why: the schedules' own audit trail. Keyed by what
-- an operator names (namespace, name, cron) and the version, not by the row, which a redeploy may replace.
CREATE TABLE :TASKER_SCHEMA.schedule_events (
  id         bigserial PRIMARY KEY,
  namespace  text NOT NULL,
  name       text NOT NULL,
  version    text NOT NULL,
  cron       text NOT NULL,
  action     text NOT NULL CHECK (action IN ('paused', 'resumed')),
  actor      text,
  reason     text,
  at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX schedule_events_schedule_idx ON :TASKER_SCHEMA.schedule_events (namespace, name, cron, id);
