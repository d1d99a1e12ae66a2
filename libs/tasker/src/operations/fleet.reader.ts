import { Inject, Injectable } from '@nestjs/common';
import { TaskValidationError } from '../errors/service.errors';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import type { TaskerHealth, TaskerStats, TaskTypeView, WorkerView } from '../interfaces/views.interface';
import { DefinitionRepository } from '../persistence/definition.repository';
import { pendingTaskerMigrations } from '../persistence/migration.runner';
import { MonitoringRepository } from '../persistence/monitoring.repository';
import { TaskerDatabase } from '../persistence/tasker-database';
import { STATES, STEP_STATES } from '../state/states';
import { TASKER_CONFIG, TASKER_DATABASE } from '../tasker.constants';
import { INVALID_TASK_TYPE_FILTER } from '../tasker.messages';
import { summarize } from '../validation/request.validation';
import { typeFilterProblems } from '../validation/type-filter.validation';

/** What the fleet looks like: task types registered, workers alive, counts by state, health (TaskerService's). */
@Injectable()
export class FleetReader {
  constructor(
    private readonly definitions: DefinitionRepository,
    private readonly monitoring: MonitoringRepository,
    @Inject(TASKER_DATABASE) private readonly db: TaskerDatabase,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
  ) {}

  async listTaskTypes(filter: { namespace?: string; name?: string }): Promise<TaskTypeView[]> {
    // Checked like listTasks' filters: a non-string would reach Postgres as a raw driver error.
    const problems = typeFilterProblems(filter);
    if (problems.length) throw new TaskValidationError(INVALID_TASK_TYPE_FILTER(summarize(problems)), problems);
    const rows = await this.definitions.find(filter.namespace, filter.name);
    return rows.map((r) => ({
      namespace: r.namespace,
      name: r.name,
      version: r.version,
      description: r.description,
      steps: r.definition.steps.map((st) => ({
        name: st.name,
        description: st.description,
        dependsOn: st.dependsOn,
        retryLimit: st.retryLimit,
        retryable: st.retryable,
        timeoutMs: st.timeoutMs,
      })),
      registeredAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async listWorkers(): Promise<WorkerView[]> {
    const rows = await this.monitoring.workers(this.config.worker.leaseMs);
    return rows.map((w) => ({
      id: w.id,
      hostname: w.hostname,
      pid: w.pid,
      concurrency: w.concurrency,
      inFlight: w.in_flight,
      taskTypes: w.task_types,
      startedAt: w.started_at,
      lastSeenAt: w.last_seen_at,
    }));
  }

  async stats(): Promise<TaskerStats> {
    const zero = <S extends string>(states: readonly S[]) => Object.fromEntries(states.map((st) => [st, 0])) as Record<S, number>;
    const out: TaskerStats = { tasks: zero(STATES), steps: zero(STEP_STATES), held: await this.monitoring.heldCounts(), workersAlive: 0 };
    for (const r of await this.monitoring.stateCounts()) {
      if (r.kind === 'task') out.tasks[r.state as keyof TaskerStats['tasks']] = r.n;
      else out.steps[r.state as keyof TaskerStats['steps']] = r.n;
    }
    out.workersAlive = (await this.monitoring.workers(this.config.worker.leaseMs)).length;
    return out;
  }

  async health(): Promise<TaskerHealth> {
    try {
      await this.monitoring.ping();
      return { database: 'up', pendingMigrations: await pendingTaskerMigrations(this.db.dataSource, this.config.schema) };
    } catch (e) {
      return { database: 'down', error: (e as Error).message, pendingMigrations: [] };
    }
  }
}
