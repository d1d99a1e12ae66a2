/** Stores a failed attempt (fenced by its lease token); a null retry time means no retry. */
export const failStepSql = (s: string) => `SELECT * FROM ${s}.fail_step($1, $2::uuid, $3::jsonb, $4::timestamptz)`;
