/**
 * Steps in progress under a worker's lease that the worker is not running: claims that committed
 * while their answer never reached it. Read only in the short window after a failed claim.
 */
export const findOrphansSql = (s: string) => `
SELECT id AS step_id, task_id, name AS step_name, attempts AS attempt, lease_token
  FROM ${s}.workflow_steps
 WHERE state = 'in_progress' AND lease_owner = $1 AND NOT (lease_token = ANY ($2::uuid[]))`;
