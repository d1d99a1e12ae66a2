-- The dependents of these skipped steps count them as finished and skipped; those whose parents
-- are now all skipped are skipped in turn (the join rule), wave after wave: one statement per wave,
-- never one per step. Returns the transitions of the steps it skipped. t: their task, locked.
-- A wave's steps are reached by key whatever the statistics say: a generic plan built while the
-- table was small would otherwise scan it whole for a few ids, and keep doing so as it grows.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._skip_cascade(t :TASKER_SCHEMA.tasks, p_step_ids bigint[])
RETURNS SETOF :TASKER_SCHEMA.transition_event
LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  v_wave bigint[] := p_step_ids;
  v_ready boolean;
  v_woken boolean := false;
  v_names text[];
BEGIN
  LOOP
    SELECT p.ready, p.skip INTO v_ready, v_wave FROM :TASKER_SCHEMA._parents_done(v_wave, true) p;
    IF v_ready AND NOT v_woken THEN
      PERFORM :TASKER_SCHEMA._wake('');
      v_woken := true;
    END IF;
    EXIT WHEN v_wave IS NULL;
    WITH s AS (
      UPDATE :TASKER_SCHEMA.workflow_steps SET state = 'skipped', completed_at = now(), updated_at = now()
       WHERE id = ANY (v_wave) AND state = 'pending'
      RETURNING id, name
    )
    SELECT array_agg(s.id ORDER BY s.id), array_agg(s.name ORDER BY s.id) INTO v_wave, v_names FROM s;
    EXIT WHEN v_wave IS NULL;
    UPDATE :TASKER_SCHEMA.tasks SET steps_done = steps_done + cardinality(v_wave), updated_at = now() WHERE id = t.id;
    RETURN QUERY SELECT * FROM :TASKER_SCHEMA._steps_moved(array_fill(t.id, ARRAY[cardinality(v_wave)]), v_wave, v_names,
      array_fill('pending'::text, ARRAY[cardinality(v_wave)]), 'skipped', NULL, NULL, 'all parents skipped', NULL);
  END LOOP;
END $$;
