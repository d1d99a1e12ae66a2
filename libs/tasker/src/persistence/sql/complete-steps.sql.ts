/** Stores many successful attempts at once (each fenced by its lease token) and what follows from them. */
export const completeStepsSql = (s: string) => `SELECT * FROM ${s}.complete_steps($1::bigint[], $2::uuid[], $3::jsonb[])`;
