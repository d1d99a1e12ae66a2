-- A task's move caused by one of its steps' transitions in the same statement is stored in that
-- step's transition row instead of a row of its own: the start of a task by the claim of its first
-- attempt, its completion by the success of its last step. A plain job wrote four audit rows (task
-- started, step started, step completed, task completed), each with its index entry; it now writes
-- two. The task's move keeps its own transition id (drawn before the step's for a start, after it
-- for a completion), so the trail's order and the events' ids are what they were.
-- The folded move's actor: a start is the claiming worker's act (the step row's actor); a
-- completion is no one's (NULL), as before.
ALTER TABLE :TASKER_SCHEMA.workflow_step_transitions
  ADD COLUMN task_transition_id bigint,
  ADD COLUMN task_from text,
  ADD COLUMN task_to text;

-- Every transition of the audit trail, task and step, however it is stored: the one place readers
-- (getAuditTrail, in-doubt recovery, the tests' checkers) read the trail from. `xid` is the writing
-- transaction, for in-doubt recovery. A filter on task_id reaches every part by its index.
CREATE VIEW :TASKER_SCHEMA.transitions AS
  SELECT 'task'::text AS kind, tt.id, tt.task_id, NULL::bigint AS step_id, NULL::text AS step_name, tt.from_state, tt.to_state,
         NULL::int AS attempt, tt.actor, tt.reason, NULL::jsonb AS error, NULL::timestamptz AS next_retry_at, NULL::int AS duration_ms,
         tt.created_at, tt.xmin::text AS xid
    FROM :TASKER_SCHEMA.task_transitions tt
  UNION ALL
  SELECT 'step'::text, st.id, st.task_id, st.step_id, st.step_name, st.from_state, st.to_state,
         st.attempt, st.actor, st.reason, st.error, st.next_retry_at, st.duration_ms, st.created_at, st.xmin::text
    FROM :TASKER_SCHEMA.workflow_step_transitions st
  UNION ALL
  SELECT 'task'::text, st.task_transition_id, st.task_id, NULL::bigint, NULL::text, st.task_from, st.task_to,
         NULL::int, CASE WHEN st.task_to = 'in_progress' THEN st.actor END, NULL::text, NULL::jsonb, NULL::timestamptz, NULL::int,
         st.created_at, st.xmin::text
    FROM :TASKER_SCHEMA.workflow_step_transitions st
   WHERE st.task_transition_id IS NOT NULL;
