-- An attempt of a step with a concurrency key ended (completed, failed, released, skipped, now
-- waiting, lapsed, cancelled): its slot is free, and the next step held on that key is let through.
-- A trigger, so that no path that ends an attempt can forget it.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._step_slot_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE :TASKER_SCHEMA.slots SET running = greatest(running - 1, 0) WHERE key = OLD.slot_key;
  PERFORM :TASKER_SCHEMA._let_through(OLD.slot_key, 1);
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS workflow_steps_slot_freed ON :TASKER_SCHEMA.workflow_steps;
CREATE TRIGGER workflow_steps_slot_freed AFTER UPDATE OF state ON :TASKER_SCHEMA.workflow_steps
  FOR EACH ROW WHEN (OLD.state = 'in_progress' AND NEW.state <> 'in_progress' AND OLD.slot_key IS NOT NULL)
  EXECUTE FUNCTION :TASKER_SCHEMA._step_slot_freed();
