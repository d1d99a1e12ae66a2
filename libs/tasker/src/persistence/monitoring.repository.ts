import { hostname } from 'node:os';
import { TaskerDatabase } from './tasker-database';

export interface WorkerRow {
  id: string;
  hostname: string;
  pid: number;
  concurrency: number;
  in_flight: number;
  task_types: string[];
  started_at: Date;
  last_seen_at: Date;
}

/** Liveness of workers and counts by state: what health checks and metrics read. */
export class MonitoringRepository {
  constructor(private readonly db: TaskerDatabase) {}

  async heartbeat(id: string, concurrency: number, inFlight: number, taskTypes: string[]): Promise<void> {
    // Run at start and on every lease-renewal tick; a worker that dies is aged out by last_seen_at.
    await this.db.query(
      `INSERT INTO ${this.db.s}.workers (id, hostname, pid, concurrency, in_flight, task_types)
       VALUES ($1, $2, $3, $4, $5, $6::text[])
       ON CONFLICT (id) DO UPDATE SET in_flight = EXCLUDED.in_flight, task_types = EXCLUDED.task_types, last_seen_at = now()`,
      [id, hostname(), process.pid, concurrency, inFlight, taskTypes]);
  }

  async removeWorker(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.db.s}.workers WHERE id = $1`, [id]);
  }

  workers(seenWithinMs: number): Promise<WorkerRow[]> {
    return this.db.read<WorkerRow>(
      `SELECT id, hostname, pid, concurrency, in_flight, task_types, started_at, last_seen_at
         FROM ${this.db.s}.workers WHERE last_seen_at > now() - $1 * interval '1 millisecond' ORDER BY started_at`,
      [seenWithinMs],
    );
  }

  /**
   * Steps held back by flow control now: on a full concurrency key (held_key, its own index), and
   * by a rate window (ready but for a future available_at that is not a task's runAt or a retry).
   */
  async heldCounts(): Promise<{ concurrency_limit: number; rate_limited: number }> {
    const [row] = await this.db.read<{ concurrency_limit: number; rate_limited: number }>(
      `SELECT (SELECT count(*) FROM ${this.db.s}.workflow_steps WHERE held_key IS NOT NULL)::int AS concurrency_limit,
              (SELECT count(*) FROM ${this.db.s}.workflow_steps w
                WHERE w.state IN ('pending', 'error', 'waiting') AND NOT w.exhausted AND w.parents_done = w.parents_total
                  AND w.state = 'pending' AND w.held_key IS NULL AND w.rate_key IS NOT NULL
                  AND w.available_at > now() AND w.available_at < 'infinity')::int AS rate_limited`,
    );
    return row;
  }

  stateCounts(): Promise<{ kind: 'task' | 'step'; state: string; n: number }[]> {
    // Finished states are counted too, so a scrape costs a scan of the state index.
    return this.db.read(
      `SELECT 'task' AS kind, state, count(*)::int AS n FROM ${this.db.s}.tasks GROUP BY state
       UNION ALL
       SELECT 'step', state, count(*)::int FROM ${this.db.s}.workflow_steps GROUP BY state`,
    );
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
