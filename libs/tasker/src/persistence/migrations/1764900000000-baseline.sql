-- Tasker's tables, indexes and types. Function bodies are not here: each lives in its own file
-- under ../functions and is (re)applied from there whenever its text changes.
--
-- The current state of a task or step lives on its row; the transition tables are the append-only
-- history, and both share one sequence so the audit trail has a total order.
-- Readiness reads only unfinished, unblocked work (partial indexes), never the finished history.

CREATE TABLE :TASKER_SCHEMA.namespaces (
  id          serial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE :TASKER_SCHEMA.named_tasks (
  id            serial PRIMARY KEY,
  namespace_id  int NOT NULL REFERENCES :TASKER_SCHEMA.namespaces(id),
  name          text NOT NULL,
  version       text NOT NULL,
  description   text,
  definition    jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (namespace_id, name, version)
);

CREATE TABLE :TASKER_SCHEMA.named_steps (
  id             serial PRIMARY KEY,
  named_task_id  int NOT NULL REFERENCES :TASKER_SCHEMA.named_tasks(id) ON DELETE CASCADE,
  name           text NOT NULL,
  position       int NOT NULL,
  description    text,
  retry_limit    int NOT NULL CHECK (retry_limit >= 1),
  retryable      boolean NOT NULL,
  timeout_ms     int,
  backoff        jsonb NOT NULL,
  parents_total  int NOT NULL DEFAULT 0,
  UNIQUE (named_task_id, name)
);

CREATE TABLE :TASKER_SCHEMA.named_step_edges (
  named_task_id       int NOT NULL REFERENCES :TASKER_SCHEMA.named_tasks(id) ON DELETE CASCADE,
  from_named_step_id  int NOT NULL REFERENCES :TASKER_SCHEMA.named_steps(id) ON DELETE CASCADE,
  to_named_step_id    int NOT NULL REFERENCES :TASKER_SCHEMA.named_steps(id) ON DELETE CASCADE,
  -- Positions of both ends, so creating a task wires its edges by array index, without a join.
  from_position       int NOT NULL,
  to_position         int NOT NULL,
  PRIMARY KEY (named_task_id, from_named_step_id, to_named_step_id)
);

CREATE TABLE :TASKER_SCHEMA.tasks (
  id               bigserial PRIMARY KEY,
  named_task_id    int NOT NULL REFERENCES :TASKER_SCHEMA.named_tasks(id),
  namespace        text NOT NULL,
  name             text NOT NULL,
  version          text NOT NULL,
  state            text NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending','in_progress','complete','error','cancelled','resolved_manually')),
  context          jsonb NOT NULL DEFAULT '{}',
  tags             text[] NOT NULL DEFAULT '{}',
  initiator        text,
  source_system    text,
  reason           text,
  idempotency_key  text,
  run_at           timestamptz,
  -- W3C trace context (traceparent, tracestate) of the creation, so step spans join the caller's trace.
  trace_context    jsonb,
  -- Counters kept under the task's row lock, so finishing a step never scans the task's steps.
  steps_total      int NOT NULL DEFAULT 0,
  steps_done       int NOT NULL DEFAULT 0,
  steps_failed     int NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz
);
CREATE UNIQUE INDEX tasks_idempotency_idx ON :TASKER_SCHEMA.tasks (namespace, name, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Lists page newest first by id (the primary key serves the unfiltered list).
CREATE INDEX tasks_state_idx ON :TASKER_SCHEMA.tasks (state, id DESC);
CREATE INDEX tasks_type_idx ON :TASKER_SCHEMA.tasks (namespace, name, id DESC);
CREATE INDEX tasks_tags_idx ON :TASKER_SCHEMA.tasks USING gin (tags);

-- The rows of a task (steps, edges, transitions) carry no foreign key to it: only Tasker's
-- functions write them, with ids of tasks they hold locked, and a referential check per written
-- row cost more than the write (and its cached plan scanned the task table as it grew). Deleting
-- tasks removes their rows through the tasks_deleted trigger, one statement per table.
CREATE TABLE :TASKER_SCHEMA.workflow_steps (
  id                bigserial PRIMARY KEY,
  task_id           bigint NOT NULL,
  named_task_id     int NOT NULL,
  named_step_id     int, -- informational: templates may change after the task was created
  name              text NOT NULL,
  position          int NOT NULL,
  state             text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending','in_progress','complete','error','cancelled','resolved_manually')),
  attempts          int NOT NULL DEFAULT 0,
  retry_limit       int NOT NULL,
  retryable         boolean NOT NULL,
  -- true once a failure will not be retried (permanent, not retryable, or attempts used up).
  exhausted         boolean NOT NULL DEFAULT false,
  timeout_ms        int,
  backoff           jsonb NOT NULL,
  parents_total     int NOT NULL DEFAULT 0,
  parents_done      int NOT NULL DEFAULT 0,
  -- Not before this time: the task's runAt for a delayed start, the retry time after a failure.
  available_at      timestamptz NOT NULL DEFAULT now(),
  lease_owner       text,
  lease_token       uuid,
  lease_expires_at  timestamptz,
  results           jsonb,
  last_error        jsonb,
  started_at        timestamptz,
  completed_at      timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (task_id, name)
);
CREATE INDEX workflow_steps_ready_idx ON :TASKER_SCHEMA.workflow_steps (available_at, id)
  WHERE state IN ('pending','error') AND NOT exhausted AND parents_done = parents_total;
CREATE INDEX workflow_steps_lease_idx ON :TASKER_SCHEMA.workflow_steps (lease_expires_at) WHERE state = 'in_progress';

CREATE TABLE :TASKER_SCHEMA.workflow_step_edges (
  task_id       bigint NOT NULL,
  from_step_id  bigint NOT NULL,
  to_step_id    bigint NOT NULL,
  PRIMARY KEY (from_step_id, to_step_id)
);
CREATE INDEX workflow_step_edges_to_idx ON :TASKER_SCHEMA.workflow_step_edges (to_step_id);

CREATE SEQUENCE :TASKER_SCHEMA.transition_seq;

CREATE TABLE :TASKER_SCHEMA.task_transitions (
  id          bigint PRIMARY KEY DEFAULT nextval(':TASKER_SCHEMA.transition_seq'),
  task_id     bigint NOT NULL,
  from_state  text,
  to_state    text NOT NULL,
  actor       text,
  reason      text,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX task_transitions_task_idx ON :TASKER_SCHEMA.task_transitions (task_id, id);

CREATE TABLE :TASKER_SCHEMA.workflow_step_transitions (
  id             bigint PRIMARY KEY DEFAULT nextval(':TASKER_SCHEMA.transition_seq'),
  task_id        bigint NOT NULL,
  step_id        bigint NOT NULL,
  step_name      text NOT NULL,
  from_state     text,
  to_state       text NOT NULL,
  attempt        int,
  actor          text,
  reason         text,
  error          jsonb,
  next_retry_at  timestamptz,
  duration_ms    int,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX workflow_step_transitions_task_idx ON :TASKER_SCHEMA.workflow_step_transitions (task_id, id);

-- Live workers, each row refreshed by its process while it runs: what "workers alive" counts.
CREATE TABLE :TASKER_SCHEMA.workers (
  id            text PRIMARY KEY,
  hostname      text NOT NULL,
  pid           int NOT NULL,
  concurrency   int NOT NULL,
  in_flight     int NOT NULL DEFAULT 0,
  task_types    text[] NOT NULL DEFAULT '{}',
  started_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workers_last_seen_idx ON :TASKER_SCHEMA.workers (last_seen_at);

-- One recorded transition, as every function that changes state returns it: the caller publishes
-- its lifecycle event after commit from exactly these rows.
CREATE TYPE :TASKER_SCHEMA.transition_event AS (
  kind           text,      -- 'task' or 'step'
  transition_id  bigint,
  task_id        bigint,
  task_name      text,
  namespace      text,
  version        text,
  step_id        bigint,
  step_name      text,
  from_state     text,
  to_state       text,
  attempt        int,
  actor          text,
  reason         text,
  error          jsonb,
  next_retry_at  timestamptz,
  duration_ms    int,
  at             timestamptz,
  task_created_at timestamptz,
  trace_context  jsonb       -- the W3C trace context of the task's creation, for tracing
);

-- One claimed attempt: everything a worker needs to run it, in the claim's answer.
CREATE TYPE :TASKER_SCHEMA.claimed_step AS (
  step_id         bigint,
  task_id         bigint,
  step_name       text,
  attempt         int,
  retry_limit     int,
  retryable       boolean,
  timeout_ms      int,
  backoff         jsonb,
  lease_token     uuid,
  claimed_at      timestamptz,
  task_name       text,
  namespace       text,
  version         text,
  task_state      text,
  context         jsonb,
  tags            text[],
  parent_results  jsonb,
  trace_context   jsonb
);
