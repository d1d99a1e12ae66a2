-- What of a stored definition fixes its version: its steps in order, each with its name,
-- dependencies (as a set), attempt budget (retryLimit, retryable), timeout, and whether it has a
-- condition or is a map. Left out, as they may change in place: descriptions, concurrency and rate
-- limits, and the backoff (timing only; often a module default that differs between processes).
CREATE OR REPLACE FUNCTION :TASKER_SCHEMA._definition_shape(p_def jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'name', x->'name',
           'dependsOn', (SELECT coalesce(jsonb_agg(d ORDER BY d), '[]') FROM jsonb_array_elements_text(x->'dependsOn') d),
           'retryLimit', x->'retryLimit', 'retryable', x->'retryable', 'timeoutMs', x->'timeoutMs',
           'condition', coalesce(x->'condition', 'false'), 'map', coalesce(x->'map', 'false'), 'maxParallel', x->'maxParallel')
         ORDER BY o), '[]')
    FROM jsonb_array_elements(p_def->'steps') WITH ORDINALITY AS e(x, o)
$$;
