/** Gives back an attempt a stopping worker did not finish, without using up an attempt. */
export const releaseStepSql = (s: string) => `SELECT * FROM ${s}.release_step($1, $2::uuid, $3)`;
