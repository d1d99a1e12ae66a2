/** A worker that stops cleanly removes itself; one that dies is aged out by last_seen_at. */
export const workerRemoveSql = (s: string) => `DELETE FROM ${s}.workers WHERE id = $1`;
