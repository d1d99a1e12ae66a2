/** Records (or updates) a task type's definition; returns its id. */
export const registerTaskTypeSql = (s: string) => `SELECT ${s}.register_task_type($1::jsonb) AS id`;
