/** Stores a successful attempt (fenced by its lease token) and what follows from it. */
export const completeStepSql = (s: string) => `SELECT * FROM ${s}.complete_step($1, $2::uuid, $3::jsonb)`;
