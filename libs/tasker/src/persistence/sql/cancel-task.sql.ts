export const cancelTaskSql = (s: string) => `SELECT * FROM ${s}.cancel_task($1, $2, $3)`;
