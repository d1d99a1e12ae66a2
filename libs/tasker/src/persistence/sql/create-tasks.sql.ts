/**
 * Instantiates many tasks in one round-trip (see the create_tasks function) and answers with their
 * rows as created: the columns of `tasks`, plus the request's 1-based `idx` and whether it `created`
 * the task (false: an idempotency key already used, the existing task).
 */
export const createTasksSql = (s: string) => `SELECT c.idx, c.created, (c.task).* FROM ${s}.create_tasks_returning($1::jsonb) c`;
