/**
 * Stores a successful attempt (fenced by its lease token) and what follows from it: complete_one
 * (migration 1764500000000), which replaced complete_step on this path.
 */
export const completeStepSql = (s: string) => `SELECT * FROM ${s}.complete_one($1, $2::uuid, $3::jsonb)`;
