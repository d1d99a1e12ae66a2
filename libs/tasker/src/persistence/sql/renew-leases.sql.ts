/** Extends the leases of running attempts in one statement; returns the tokens still owned. */
export const renewLeasesSql = (s: string) => `SELECT t AS token FROM ${s}.renew_leases($1::uuid[], $2) t`;
