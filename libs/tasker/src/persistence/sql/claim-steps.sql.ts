/** Claims ready steps for a worker, with a lease; one round-trip returns everything a step needs to run. */
export const claimStepsSql = (s: string) => `SELECT * FROM ${s}.claim_steps($1, $2::int[], $3, $4)`;
