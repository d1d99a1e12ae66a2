-- Whether a task matches the filter of a bulk action ({ ids, state, namespace, name, version,
-- stepName, code }, every field optional): each field given must hold. stepName and code name a step
-- that failed for good (its last error's code); an instance of a map step goes by its map step's name,
-- as in the failures inbox.
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._task_in_filter(t :TASKER_SCHEMA.tasks, f jsonb)
RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT (f->'ids' IS NULL OR t.id = ANY (ARRAY(SELECT jsonb_array_elements_text(f->'ids')::bigint)))
     AND (f->>'state' IS NULL OR t.state = f->>'state')
     AND (f->>'namespace' IS NULL OR t.namespace = f->>'namespace')
     AND (f->>'name' IS NULL OR t.name = f->>'name')
     AND (f->>'version' IS NULL OR t.version = f->>'version')
     AND (f->>'stepName' IS NULL AND f->>'code' IS NULL OR EXISTS (
       SELECT 1 FROM :TASKER_SCHEMA.workflow_steps w
         LEFT JOIN :TASKER_SCHEMA.workflow_steps m ON m.id = w.map_step_id
        WHERE w.task_id = t.id AND w.state = 'error' AND w.exhausted
          AND (f->>'stepName' IS NULL OR coalesce(m.name, w.name) = f->>'stepName')
          AND (f->>'code' IS NULL OR w.last_error->>'code' = f->>'code')))
$$;
