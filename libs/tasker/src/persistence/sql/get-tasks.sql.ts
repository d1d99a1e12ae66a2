/** Task rows by id. */
export const getTasksSql = (s: string) => `SELECT * FROM ${s}.tasks WHERE id = ANY ($1::bigint[])`;
