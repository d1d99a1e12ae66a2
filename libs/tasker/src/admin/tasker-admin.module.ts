import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { TaskerAdminOptions } from './admin-options.interface';
import { ADMIN_PREFIX, TASKER_ADMIN_AUTH, TASKER_ADMIN_OPTIONS } from './admin.constants';
import { ApiKeyGuard } from './auth/api-key.guard';
import { resolveAdminAuth } from './auth/admin-auth';
import { BulkActionsController } from './controllers/bulk-actions.controller';
import { DashboardController } from './controllers/dashboard.controller';
import { FailuresController } from './controllers/failures.controller';
import { HandlersController } from './controllers/handlers.controller';
import { HealthController } from './controllers/health.controller';
import { MetricsController } from './controllers/metrics.controller';
import { SchedulesController } from './controllers/schedules.controller';
import { StatsController } from './controllers/stats.controller';
import { TasksController } from './controllers/tasks.controller';
import { TaskerHealthIndicator } from './health/tasker.health';
import { AdminHeadersMiddleware } from './http/admin-headers.middleware';
import { TaskerMetrics } from './metrics/tasker-metrics.service';

/**
 * The admin API under `/tasker`: tasks, audit, graph, operator actions, handlers, schedules,
 * health, metrics and the dashboard. Import it next to `TaskerModule.forRoot(...)` in any Nest HTTP
 * app. API keys come from `TASKER_API_KEYS` (or `apiKeys`); without any, the app refuses to start
 * unless `insecure` (`TASKER_INSECURE=true`) is set.
 */
@Module({})
export class TaskerAdminModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AdminHeadersMiddleware).forRoutes({ path: `${ADMIN_PREFIX}/*path`, method: RequestMethod.ALL });
  }

  static forRoot(options: TaskerAdminOptions = {}): DynamicModule {
    return {
      module: TaskerAdminModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [BulkActionsController, TasksController, FailuresController, HandlersController, SchedulesController, HealthController, MetricsController, DashboardController, StatsController],
      providers: [
        { provide: TASKER_ADMIN_OPTIONS, useValue: options },
        { provide: TASKER_ADMIN_AUTH, useFactory: (o: TaskerAdminOptions) => resolveAdminAuth(o), inject: [TASKER_ADMIN_OPTIONS] },
        ApiKeyGuard,
        TaskerHealthIndicator,
        TaskerMetrics,
      ],
      exports: [TaskerMetrics],
    };
  }
}
