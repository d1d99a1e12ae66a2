-- Picks the steps a claim takes (locked FOR UPDATE SKIP LOCKED, not yet changed), in claim order:
-- up to p_limit ready steps of the task types p_types by task priority (readiness order among
-- equals), except that up to p_fair of them go first to steps ready for at least p_aging_ms, in
-- readiness order: priority decides, and nothing waits for ever behind a stream of
-- higher-priority work (it is taken once it has aged, by the next claim).
--
-- Flow control is decided here, for the steps that have a key (the others pass without a lookup):
-- - a task's concurrency key: a step of a task not started yet needs a free slot of its key (the
--   task takes it when it starts, and frees it when it leaves in_progress);
-- - a step's concurrency key: the attempt needs a free slot (freed when the attempt ends);
-- - a rate key: fewer than `lim` starts of the key within its period (a sliding window); the
--   claim records the attempts' start times in the window once it has started them.
-- A step whose key is full is held (held_key, available_at 'infinity': out of the ready order,
-- so it never blocks other work) until a slot of the key frees and lets it through; a rate-limited
-- step is ready again when the window allows, and `wake_at` says when the first such is.
-- Slot and window rows are taken SKIP LOCKED as well: the claim never waits for anyone.
-- Rounds: what was held or delayed is replaced by further ready steps, a few times at most.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._pick_steps(p_types int[], p_limit int, p_fair int, p_aging_ms int,
                                                      OUT ids bigint[], OUT wake_at timestamptz)
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  v_seen bigint[] := '{}';
  v_cand bigint[];
  v_more bigint[];
  v_limited boolean;
  v_fair int := least(p_fair, p_limit);
  v_round int := 0;
  v_started bigint[] := '{}';   -- tasks this claim starts, each with its task slot taken
  c record;
  s :TASKER_SCHEMA.slots;
  rw :TASKER_SCHEMA.rate_windows;
  v_window timestamptz[];
  v_task_state text;
  v_ok boolean;
  v_hold text;
  v_delay timestamptz;
  v_rate_used jsonb := '{}';    -- steps this claim admitted per rate key, not yet in their window
  v_at timestamptz;
BEGIN
  ids := '{}';
  WHILE cardinality(ids) < p_limit AND v_round < 4 LOOP
    v_round := v_round + 1;
    v_cand := '{}';
    v_limited := false;
    IF v_fair > 0 THEN
      SELECT coalesce(array_agg(x.id ORDER BY x.available_at, x.id), '{}'), coalesce(bool_or(x.limited), false) INTO v_cand, v_limited
        FROM (SELECT w.id, w.available_at, w.slot_key IS NOT NULL OR w.rate_key IS NOT NULL OR w.task_slot_key IS NOT NULL AS limited
                FROM :TASKER_SCHEMA.workflow_steps w
               WHERE w.state IN ('pending', 'error', 'waiting') AND NOT w.exhausted AND w.parents_done = w.parents_total
                 AND w.available_at <= now() - p_aging_ms * interval '1 millisecond'
                 AND w.named_task_id = ANY (p_types) AND w.id <> ALL (v_seen)
               ORDER BY w.available_at, w.id
               LIMIT v_fair
                 FOR UPDATE SKIP LOCKED) x;
      v_fair := 0;
    END IF;
    SELECT coalesce(array_agg(x.id ORDER BY x.priority DESC, x.available_at, x.id), '{}'), coalesce(bool_or(x.limited), false)
      INTO v_more, v_ok
      FROM (SELECT w.id, w.priority, w.available_at, w.slot_key IS NOT NULL OR w.rate_key IS NOT NULL OR w.task_slot_key IS NOT NULL AS limited
              FROM :TASKER_SCHEMA.workflow_steps w
             WHERE w.state IN ('pending', 'error', 'waiting') AND NOT w.exhausted AND w.parents_done = w.parents_total
               AND w.available_at <= now() AND w.named_task_id = ANY (p_types) AND w.id <> ALL (v_seen || v_cand)
             ORDER BY w.priority DESC, w.available_at, w.id
             LIMIT p_limit - cardinality(ids) - cardinality(v_cand)
               FOR UPDATE SKIP LOCKED) x;
    v_cand := v_cand || v_more;
    v_limited := v_limited OR v_ok;
    EXIT WHEN cardinality(v_cand) = 0;
    v_seen := v_seen || v_cand;
    IF NOT v_limited THEN
      ids := ids || v_cand;
      EXIT;
    END IF;

    FOR c IN SELECT w.id, w.task_id, w.slot_key, w.rate_key, w.task_slot_key
               FROM unnest(v_cand) WITH ORDINALITY x(id, o)
              -- (a wait taken back is no new attempt: it counts against no rate)
              CROSS JOIN LATERAL (SELECT y.id, y.task_id, y.slot_key, CASE WHEN y.state <> 'waiting' THEN y.rate_key END AS rate_key, y.task_slot_key
                                    FROM :TASKER_SCHEMA.workflow_steps y WHERE y.id = x.id OFFSET 0) w
              ORDER BY x.o LOOP
      IF c.slot_key IS NULL AND c.rate_key IS NULL AND c.task_slot_key IS NULL THEN
        ids := ids || c.id;
        CONTINUE;
      END IF;
      v_ok := true;
      v_hold := NULL;
      v_delay := NULL;
      v_task_state := NULL;
      IF c.task_slot_key IS NOT NULL AND NOT (c.task_id = ANY (v_started)) THEN
        SELECT t.state INTO v_task_state FROM :TASKER_SCHEMA.tasks t WHERE t.id = c.task_id FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
          v_ok := false; -- being changed right now: another claim takes it
        ELSIF v_task_state = 'pending' THEN
          SELECT * INTO s FROM :TASKER_SCHEMA.slots WHERE key = c.task_slot_key FOR UPDATE SKIP LOCKED;
          IF NOT FOUND THEN v_ok := false;
          ELSIF s.running >= s.lim THEN v_ok := false; v_hold := c.task_slot_key;
          END IF;
        END IF;
      END IF;
      IF v_ok AND c.slot_key IS NOT NULL THEN
        SELECT * INTO s FROM :TASKER_SCHEMA.slots WHERE key = c.slot_key FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN v_ok := false;
        ELSIF s.running >= s.lim THEN v_ok := false; v_hold := c.slot_key;
        END IF;
      END IF;
      IF v_ok AND c.rate_key IS NOT NULL THEN
        SELECT * INTO rw FROM :TASKER_SCHEMA.rate_windows WHERE key = c.rate_key FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
          v_ok := false;
        ELSE
          v_at := clock_timestamp();
          v_window := ARRAY(SELECT x FROM unnest(rw.starts) x WHERE x > v_at - rw.period_ms * interval '1 millisecond' ORDER BY x);
          IF cardinality(v_window) + coalesce((v_rate_used->>c.rate_key)::int, 0) >= rw.lim THEN
            v_ok := false;
            v_delay := coalesce(v_window[greatest(1, cardinality(v_window) - rw.lim + 1 + coalesce((v_rate_used->>c.rate_key)::int, 0))], v_at)
                       + rw.period_ms * interval '1 millisecond';
          END IF;
        END IF;
      END IF;

      IF v_ok THEN
        IF v_task_state = 'pending' THEN
          UPDATE :TASKER_SCHEMA.slots SET running = running + 1 WHERE key = c.task_slot_key;
          v_started := v_started || c.task_id;
          -- The task's other steps held on its key need no slot of their own any more.
          UPDATE :TASKER_SCHEMA.workflow_steps SET held_key = NULL, available_at = now(), updated_at = now()
           WHERE task_id = c.task_id AND held_key = c.task_slot_key;
        END IF;
        IF c.slot_key IS NOT NULL THEN UPDATE :TASKER_SCHEMA.slots SET running = running + 1 WHERE key = c.slot_key; END IF;
        IF c.rate_key IS NOT NULL THEN
          v_rate_used := jsonb_set(v_rate_used, ARRAY[c.rate_key], to_jsonb(coalesce((v_rate_used->>c.rate_key)::int, 0) + 1));
        END IF;
        ids := ids || c.id;
      ELSIF v_hold IS NOT NULL THEN
        UPDATE :TASKER_SCHEMA.workflow_steps SET held_key = v_hold, available_at = 'infinity', updated_at = now() WHERE id = c.id;
      ELSIF v_delay IS NOT NULL THEN
        UPDATE :TASKER_SCHEMA.workflow_steps SET available_at = v_delay, updated_at = now() WHERE id = c.id;
        wake_at := least(wake_at, v_delay);
      END IF;
    END LOOP;
  END LOOP;
END $$;
