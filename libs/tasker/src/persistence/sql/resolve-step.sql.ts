export const resolveStepSql = (s: string) => `SELECT * FROM ${s}.resolve_step($1, $2, $3::jsonb, $4, $5)`;
