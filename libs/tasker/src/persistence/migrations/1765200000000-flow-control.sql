-- Flow control: priorities, concurrency limits per key and rate limits, enforced fleet-wide in the
-- claim, without ever counting running steps: a slot row per (limit, key) keeps the running count,
-- changed in the transactions that start and end attempts (the end by trigger, so that every path
-- that ends an attempt frees its slot: completion, failure, release, skip, wait, lease lapse,
-- cancellation); a rate window row per (bucket, key) keeps the last `limit` start times.
-- A step the claim cannot start because its key is full is held (available_at 'infinity',
-- held_key): it leaves the ready order, so it never blocks other work, and the next step held on
-- a key is let through when a slot of that key frees.

ALTER TABLE :TASKER_SCHEMA.tasks
  ADD COLUMN priority   smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN -100 AND 100),
  -- The task type's concurrency key ('task:<namespace>/<name>:<value>'), fixed at creation.
  ADD COLUMN slot_key   text;

ALTER TABLE :TASKER_SCHEMA.workflow_steps
  ADD COLUMN priority   smallint NOT NULL DEFAULT 0,
  -- The step's concurrency key ('step:<namespace>/<name>/<step>:<value>') and rate key
  -- ('rate:<bucket>:<value>'), fixed at creation; held_key: the key a held step waits for.
  ADD COLUMN slot_key   text,
  ADD COLUMN rate_key   text,
  -- The task's concurrency key, on each of its steps, so the claim knows it without a lookup.
  ADD COLUMN task_slot_key text,
  ADD COLUMN held_key   text;

ALTER TABLE :TASKER_SCHEMA.named_tasks
  ADD COLUMN concurrency jsonb,   -- {"key": <context path or null>, "limit": n}
  -- The type or one of its steps has a concurrency or rate limit: only then does creating its
  -- tasks look for keys.
  ADD COLUMN limited     boolean NOT NULL DEFAULT false;
ALTER TABLE :TASKER_SCHEMA.named_steps
  ADD COLUMN concurrency jsonb,   -- {"key": <context path or null>, "limit": n}
  ADD COLUMN rate_limit  jsonb;   -- {"bucket", "limit", "periodMs", "key": <context path or null>}

-- Claims in priority order (readiness order among equals); ready_idx keeps readiness order for the
-- share of claims that ignores priority, so a low-priority step never starves.
CREATE INDEX workflow_steps_priority_idx ON :TASKER_SCHEMA.workflow_steps (priority DESC, available_at, id)
  WHERE state IN ('pending','error','waiting') AND NOT exhausted AND parents_done = parents_total;
-- The steps held on a key, in the order they are let through.
CREATE INDEX workflow_steps_held_key_idx ON :TASKER_SCHEMA.workflow_steps (held_key, priority DESC, id) WHERE held_key IS NOT NULL;

CREATE TABLE :TASKER_SCHEMA.slots (
  key       text PRIMARY KEY,
  lim       int NOT NULL CHECK (lim >= 1),
  running   int NOT NULL DEFAULT 0
);

CREATE TABLE :TASKER_SCHEMA.rate_windows (
  key        text PRIMARY KEY,
  lim        int NOT NULL CHECK (lim >= 1),
  period_ms  int NOT NULL CHECK (period_ms >= 1),
  -- The last `lim` start times, oldest first: a start is allowed when the oldest is a period ago.
  starts     timestamptz[] NOT NULL DEFAULT '{}'
);

-- claim_steps takes how many of its steps go to steps that waited long, whatever their priority
-- (a new signature; the body is in ../functions).
DROP FUNCTION IF EXISTS :TASKER_SCHEMA.claim_steps(text, int[], int, int);

-- An attempt that ends frees its step's slot; a task that leaves in_progress frees its task's slot.
-- (The trigger functions are in ../functions; created there with their triggers.)
