-- Lets through up to p_n steps held on key p_key (the highest priority first, then the oldest):
-- they are ready again at once, and the claim tries their key again.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._let_through(p_key text, p_n int)
RETURNS void LANGUAGE plpgsql SET jit = off SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
  UPDATE :TASKER_SCHEMA.workflow_steps SET held_key = NULL, available_at = now(), updated_at = now()
   WHERE id = ANY (ARRAY(SELECT h.id FROM :TASKER_SCHEMA.workflow_steps h
                          WHERE h.held_key = p_key AND h.state IN ('pending', 'error')
                          ORDER BY h.priority DESC, h.id LIMIT p_n));
  IF FOUND THEN PERFORM :TASKER_SCHEMA._wake(''); END IF;
END $$;
