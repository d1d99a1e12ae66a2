import { INestApplication, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerAuditService, TaskerModule, TaskerService } from 'nestjs-tasker';
import { setupTaskerSwagger, TaskerAdminModule, TaskerExceptionFilter } from 'nestjs-tasker/admin';

// #region admin-module
@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TaskerModule.forRoot({ databaseUrl: process.env.DATABASE_URL }),
    // The admin API under /tasker. Keys come from TASKER_API_KEYS ("name:role:secret,..."),
    // or here: apiKeys: [{ name: 'alice', role: 'operator', secret: process.env.ALICE_KEY! }]
    TaskerAdminModule.forRoot(),
  ],
})
export class AppModule {}
// #endregion

// #region admin-bootstrap
export function setupTaskerAdmin(app: INestApplication): void {
  setupTaskerSwagger(app); // OpenAPI UI at /tasker/docs, JSON at /tasker/docs-json
  // Optional: the admin controllers already answer errors as { statusCode, error, message, details? };
  // as a global filter it also shapes errors raised before a controller (bad JSON, unknown routes).
  app.useGlobalFilters(new TaskerExceptionFilter());
}

export async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  setupTaskerAdmin(app);
  app.enableShutdownHooks();
  await app.listen(3000);
}
// #endregion

// #region triage
@Injectable()
export class WorkflowTriage {
  constructor(
    private readonly tasker: TaskerService,
    private readonly audit: TaskerAuditService,
  ) {}

  /** The tasks waiting for an operator, each with the step that stopped it and why. */
  async failedTasks(namespace?: string) {
    const page = await this.tasker.listTasks({ state: 'error', namespace, limit: 100 }); // newest first; page with nextCursor
    return Promise.all(
      page.items.map(async (t) => {
        const detail = await this.tasker.getTask(t.id);
        const failed = detail.steps.filter((s) => s.state === 'error');
        return {
          id: t.id,
          type: `${t.namespace}/${t.name}@${t.version}`,
          failed: failed.map((s) => ({ step: s.name, attempts: `${s.attempts}/${s.retryLimit}`, error: s.lastError?.message })),
        };
      }),
    );
  }

  /** What a status page or an alert rule needs. */
  async overview() {
    const [stats, health, workers, types] = await Promise.all([
      this.tasker.stats(), // tasks and steps by state, live workers (whole fleet)
      this.tasker.health(), // { database: 'up' | 'down', pendingMigrations }
      this.tasker.listWorkers(), // each process: host, pid, concurrency, in flight, task types
      this.tasker.listTaskTypes(), // every registered (namespace, name, version) with its steps
    ]);
    return { stats, health, workers, types: types.map((t) => `${t.namespace}/${t.name}@${t.version}`) };
  }

  /** The compliance record of one task, as NDJSON. */
  exportHistory(taskId: string) {
    return this.audit.export(taskId);
  }
}
// #endregion

// #region retention
@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TaskerModule.forRoot({
      databaseUrl: process.env.DATABASE_URL,
      // Finished tasks are deleted 30 days after they finished (tasks in error are kept).
      retention: { finishedAfterMs: 30 * 24 * 60 * 60 * 1000 },
    }),
  ],
})
export class RetainingAppModule {}
// #endregion

// #region incident
@Injectable()
export class IncidentActions {
  constructor(private readonly tasker: TaskerService) {}

  /** Once the cause of the largest failure group is fixed: retry every task of that group. */
  async retryLargestGroup(reason: string): Promise<number> {
    const [group] = await this.tasker.listFailures();
    if (!group) return 0;
    const { namespace, name, version, stepName, code } = group;
    const { count } = await this.tasker.retryTasks({ namespace, name, version, stepName, code }, { actor: 'incident-bot', reason });
    return count;
  }
}
// #endregion
