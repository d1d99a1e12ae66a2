export const retryTaskSql = (s: string) => `SELECT * FROM ${s}.retry_task($1, $2, $3)`;
