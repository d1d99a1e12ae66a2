/**
 * A worker's finished attempts stored and its next steps claimed in one round-trip and one
 * transaction: the claim sees the dependents the completions just made ready. Rows come back as
 * JSON (two shapes in one answer), ids as text so no bigint loses precision; part 0 are the
 * transitions (in the order written), part 1 the claims. UNION ALL runs its branches in order.
 * `many`: complete_steps over arrays. One success: complete_one, the same with scalar statements;
 * it leaves the wake-up to part 2, after the claim, which notifies the other workers only when
 * a dependent is ready and still unclaimed (its one row is not read).
 */
export const completeAndClaimSql = (s: string, completions: 'many' | 'one') =>
  completions === 'many'
    ? `
SELECT 0 AS part, ${transitionJson('e')} AS row
  FROM ${s}.complete_steps($1::bigint[], $2::uuid[], $3::jsonb[]) e
UNION ALL
SELECT 1, ${claimJson('c')}
  FROM ${s}.claim_steps($4, $5::int[], $6, $7) c`
    : `
SELECT 0 AS part, ${transitionJson('e')} AS row
  FROM ${s}.complete_one($1::bigint, $2::uuid, $3::jsonb, false) e
UNION ALL
SELECT 1, ${claimJson('c')}
  FROM ${s}.claim_steps($4, $5::int[], $6, $7) c
UNION ALL
SELECT 2, NULL
  FROM ${s}._wake_for_unclaimed($1::bigint, $4) w`;

const transitionJson = (e: string) =>
  `to_jsonb(${e}) || jsonb_build_object('transition_id', ${e}.transition_id::text, 'task_id', ${e}.task_id::text, 'step_id', ${e}.step_id::text)`;
const claimJson = (c: string) => `to_jsonb(${c}) || jsonb_build_object('step_id', ${c}.step_id::text, 'task_id', ${c}.task_id::text)`;
