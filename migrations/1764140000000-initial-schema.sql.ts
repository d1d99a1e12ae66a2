/**
 * Tables and indexes. The current state lives on the row; the transition tables are the
 * append-only history, and both share one sequence so the audit trail has a total order.
 * `s` is the quoted schema name.
 */
export const initialSchemaSql = (s: string) => `
CREATE TABLE ${s}.namespaces (
  id          serial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ${s}.named_tasks (
  id            serial PRIMARY KEY,
  namespace_id  int NOT NULL REFERENCES ${s}.namespaces(id),
  name          text NOT NULL,
  version       text NOT NULL,
  description   text,
  definition    jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (namespace_id, name, version)
);

CREATE TABLE ${s}.named_steps (
  id             serial PRIMARY KEY,
  named_task_id  int NOT NULL REFERENCES ${s}.named_tasks(id) ON DELETE CASCADE,
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

CREATE TABLE ${s}.named_step_edges (
  named_task_id       int NOT NULL REFERENCES ${s}.named_tasks(id) ON DELETE CASCADE,
  from_named_step_id  int NOT NULL REFERENCES ${s}.named_steps(id) ON DELETE CASCADE,
  to_named_step_id    int NOT NULL REFERENCES ${s}.named_steps(id) ON DELETE CASCADE,
  -- Positions of both ends, so creating a task wires its edges by array index, without a join.
  from_position       int NOT NULL,
  to_position         int NOT NULL,
  PRIMARY KEY (named_task_id, from_named_step_id, to_named_step_id)
);

CREATE TABLE ${s}.tasks (
  id               bigserial PRIMARY KEY,
  named_task_id    int NOT NULL REFERENCES ${s}.named_tasks(id),
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
CREATE UNIQUE INDEX tasks_idempotency_idx ON ${s}.tasks (namespace, name, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Lists page newest first by id (the primary key serves the unfiltered list).
CREATE INDEX tasks_state_idx ON ${s}.tasks (state, id DESC);
CREATE INDEX tasks_type_idx ON ${s}.tasks (namespace, name, id DESC);
CREATE INDEX tasks_tags_idx ON ${s}.tasks USING gin (tags);

CREATE TABLE ${s}.workflow_steps (
  id                bigserial PRIMARY KEY,
  task_id           bigint NOT NULL REFERENCES ${s}.tasks(id) ON DELETE CASCADE,
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
-- Readiness reads only unfinished, unblocked work: finished history never enters this index.
CREATE INDEX workflow_steps_ready_idx ON ${s}.workflow_steps (available_at, id)
  WHERE state IN ('pending','error') AND NOT exhausted AND parents_done = parents_total;
CREATE INDEX workflow_steps_lease_idx ON ${s}.workflow_steps (lease_expires_at) WHERE state = 'in_progress';

-- Only the task is a foreign key: edges and step transitions are written by Tasker's functions
-- from ids they just created, and per-row FK checks on them cost more than the inserts (measured:
-- a 1,000-step task's 2,475 edges spent 22 ms in FK triggers). Migration 1764400000000 drops the
-- task keys too, for the same reason.
CREATE TABLE ${s}.workflow_step_edges (
  task_id       bigint NOT NULL REFERENCES ${s}.tasks(id) ON DELETE CASCADE,
  from_step_id  bigint NOT NULL,
  to_step_id    bigint NOT NULL,
  PRIMARY KEY (from_step_id, to_step_id)
);
CREATE INDEX workflow_step_edges_to_idx ON ${s}.workflow_step_edges (to_step_id);

CREATE SEQUENCE ${s}.transition_seq;

CREATE TABLE ${s}.task_transitions (
  id          bigint PRIMARY KEY DEFAULT nextval('${s}.transition_seq'),
  task_id     bigint NOT NULL REFERENCES ${s}.tasks(id) ON DELETE CASCADE,
  from_state  text,
  to_state    text NOT NULL,
  actor       text,
  reason      text,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX task_transitions_task_idx ON ${s}.task_transitions (task_id, id);

CREATE TABLE ${s}.workflow_step_transitions (
  id             bigint PRIMARY KEY DEFAULT nextval('${s}.transition_seq'),
  task_id        bigint NOT NULL REFERENCES ${s}.tasks(id) ON DELETE CASCADE,
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
CREATE INDEX workflow_step_transitions_task_idx ON ${s}.workflow_step_transitions (task_id, id);
`;
