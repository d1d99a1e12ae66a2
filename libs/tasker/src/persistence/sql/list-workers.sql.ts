/** Workers seen within the given number of milliseconds. */
export const listWorkersSql = (s: string) => `
SELECT id, hostname, pid, concurrency, in_flight, task_types, started_at, last_seen_at
  FROM ${s}.workers WHERE last_seen_at > now() - $1 * interval '1 millisecond' ORDER BY started_at`;
