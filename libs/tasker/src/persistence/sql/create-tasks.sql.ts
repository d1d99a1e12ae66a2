/** Instantiates many tasks in one round-trip; see the create_tasks function. */
export const createTasksSql = (s: string) => `SELECT idx, task_id, created FROM ${s}.create_tasks($1::jsonb)`;
