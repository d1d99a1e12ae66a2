/** Fails attempts whose worker stopped renewing its lease (a crashed or stalled process). */
export const expireLeasesSql = (s: string) => `SELECT * FROM ${s}.expire_leases($1)`;
