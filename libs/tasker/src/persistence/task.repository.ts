import type { EntityManager } from 'typeorm';
import { auditTrailSql } from './sql/audit-trail.sql';
import { cancelTaskSql } from './sql/cancel-task.sql';
import { createTasksSql } from './sql/create-tasks.sql';
import { getStepsSql } from './sql/get-steps.sql';
import { getTasksSql } from './sql/get-tasks.sql';
import { listTasksSql } from './sql/list-tasks.sql';
import { resolveStepSql } from './sql/resolve-step.sql';
import { retryTaskSql } from './sql/retry-task.sql';
import { AuditRow, StepRow, TaskRow, TransitionRow } from './rows';
import { TaskerDatabase } from './tasker-database';

/** What create_tasks needs per task; the steps come from the registered definition. */
export interface NewTaskRow {
  namedTaskId: number;
  context: Record<string, unknown>;
  tags: string[];
  initiator?: string;
  sourceSystem?: string;
  reason?: string;
  idempotencyKey?: string;
  runAt?: string;
  /** Who created it, for the audit trail; defaults to the initiator. */
  actor?: string;
  /** W3C trace context of the creation (traceparent, tracestate). */
  traceContext?: Record<string, string>;
}

export interface ListFilter {
  state?: string;
  namespace?: string;
  name?: string;
  tag?: string;
  beforeId?: string;
  limit: number;
}

/** Tasks, their steps and history, and the operator actions on them. */
export class TaskRepository {
  constructor(private readonly db: TaskerDatabase) {}

  /** The tasks as created, in request order; `created` false: an idempotency key already used, the existing task. */
  async create(requests: NewTaskRow[], manager?: EntityManager): Promise<{ task: TaskRow; created: boolean }[]> {
    const rows = await this.db.query<TaskRow & { idx: number; created: boolean }>(createTasksSql(this.db.s), [JSON.stringify(requests)], manager);
    const out = new Array<{ task: TaskRow; created: boolean }>(requests.length);
    for (const { idx, created, ...task } of rows) out[idx - 1] = { task, created };
    return out;
  }

  getTasks(ids: string[], manager?: EntityManager): Promise<TaskRow[]> {
    return this.db.query<TaskRow>(getTasksSql(this.db.s), [ids], manager);
  }

  getSteps(taskId: string): Promise<StepRow[]> {
    return this.db.query<StepRow>(getStepsSql(this.db.s), [taskId]);
  }

  list(f: ListFilter): Promise<TaskRow[]> {
    return this.db.query<TaskRow>(listTasksSql(this.db.s), [
      f.state ?? null,
      f.namespace ?? null,
      f.name ?? null,
      f.tag ?? null,
      f.beforeId ?? null,
      f.limit,
    ]);
  }

  auditTrail(taskId: string): Promise<AuditRow[]> {
    return this.db.query<AuditRow>(auditTrailSql(this.db.s), [taskId]);
  }

  retry(taskId: string, actor: string | null, reason: string | null): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(retryTaskSql(this.db.s), [taskId, actor, reason]);
  }

  cancel(taskId: string, actor: string | null, reason: string | null): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(cancelTaskSql(this.db.s), [taskId, actor, reason]);
  }

  resolveStep(taskId: string, stepName: string, results: string, actor: string | null, reason: string | null) {
    return this.db.query<TransitionRow>(resolveStepSql(this.db.s), [taskId, stepName, results, actor, reason]);
  }
}
