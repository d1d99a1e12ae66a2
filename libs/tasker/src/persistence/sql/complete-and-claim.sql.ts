/**
 * A worker's finished attempts stored and its next steps claimed in one round-trip and one
 * transaction: the claim sees the dependents the completions just made ready. Rows come back as
 * JSON (two shapes in one answer), ids as text so no bigint loses precision; part 0 are the
 * transitions (in the order written), part 1 the claims. UNION ALL runs its branches in order.
 * `many`: complete_steps over arrays; one success: complete_one, the same with scalar statements.
 */
export const completeAndClaimSql = (s: string, completions: 'many' | 'one') => `
SELECT 0 AS part, to_jsonb(e) || jsonb_build_object('transition_id', e.transition_id::text, 'task_id', e.task_id::text,
                                                     'step_id', e.step_id::text) AS row
  FROM ${completions === 'many' ? `${s}.complete_steps($1::bigint[], $2::uuid[], $3::jsonb[])` : `${s}.complete_one($1::bigint, $2::uuid, $3::jsonb)`} e
UNION ALL
SELECT 1, to_jsonb(c) || jsonb_build_object('step_id', c.step_id::text, 'task_id', c.task_id::text)
  FROM ${s}.claim_steps($4, $5::int[], $6, $7) c`;
