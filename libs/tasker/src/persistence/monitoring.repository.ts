import { hostname } from 'node:os';
import { listWorkersSql } from './sql/list-workers.sql';
import { stateCountsSql } from './sql/state-counts.sql';
import { workerHeartbeatSql } from './sql/worker-heartbeat.sql';
import { workerRemoveSql } from './sql/worker-remove.sql';
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
    await this.db.query(workerHeartbeatSql(this.db.s), [id, hostname(), process.pid, concurrency, inFlight, taskTypes]);
  }

  async removeWorker(id: string): Promise<void> {
    await this.db.query(workerRemoveSql(this.db.s), [id]);
  }

  workers(seenWithinMs: number): Promise<WorkerRow[]> {
    return this.db.query<WorkerRow>(listWorkersSql(this.db.s), [seenWithinMs]);
  }

  stateCounts(): Promise<{ kind: 'task' | 'step'; state: string; n: number }[]> {
    return this.db.query(stateCountsSql(this.db.s));
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
