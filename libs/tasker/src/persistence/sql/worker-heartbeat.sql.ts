/** Records that a worker is alive (and how busy); run at start and on every lease-renewal tick. */
export const workerHeartbeatSql = (s: string) => `
INSERT INTO ${s}.workers (id, hostname, pid, concurrency, in_flight, task_types)
VALUES ($1, $2, $3, $4, $5, $6::text[])
ON CONFLICT (id) DO UPDATE SET in_flight = EXCLUDED.in_flight, task_types = EXCLUDED.task_types, last_seen_at = now()`;
