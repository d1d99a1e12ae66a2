import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TaskerExplorer } from './discovery/tasker.explorer';
import { TaskerMetadataAccessor } from './discovery/tasker-metadata.accessor';
import { AfterCommit } from './events/after-commit';
import { TaskerAuditService } from './events/tasker-audit.service';
import { TaskerEventBus } from './events/tasker-event-bus';
import { TaskerLoggingListener } from './events/tasker-logging.listener';
import type { TaskerModuleOptions } from './interfaces/tasker-options.interface';
import { LeaseSweeper } from './orchestration/lease.sweeper';
import { OutcomeRecorder } from './orchestration/outcome.recorder';
import { StepExecutor } from './orchestration/step.executor';
import { TaskerWorker } from './orchestration/tasker.worker';
import { WakeListener } from './orchestration/wake.listener';
import { DefinitionRepository } from './persistence/definition.repository';
import { MonitoringRepository } from './persistence/monitoring.repository';
import { StepRepository } from './persistence/step.repository';
import { TaskRepository } from './persistence/task.repository';
import { TaskerDatabase } from './persistence/tasker-database';
import { HandlerRegistry } from './registry/handler.registry';
import { TaskTypeResolver } from './registry/task-type.resolver';
import { TaskerBootstrap } from './tasker.bootstrap';
import { normalizeOptions } from './tasker-config';
import { TASKER_CONFIG, TASKER_DATA_SOURCE } from './tasker.constants';
import { ConfigurableModuleClass, TASKER_MODULE_OPTIONS } from './tasker.module-definition';
import { TaskerService } from './tasker.service';
import { TaskerTracing } from './tracing/tasker-tracing';

const repository = <T>(Repo: new (db: TaskerDatabase) => T) => ({
  provide: Repo,
  useFactory: (db: TaskerDatabase) => new Repo(db),
  inject: [TASKER_DATA_SOURCE],
});

/**
 * Durable DAG workflows on PostgreSQL. Import once in the root module with
 * `TaskerModule.forRoot({ databaseUrl })` (or `forRootAsync`), next to
 * `EventEmitterModule.forRoot()` and `ScheduleModule.forRoot()`; then inject `TaskerService`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: TASKER_CONFIG, useFactory: (o: TaskerModuleOptions) => normalizeOptions(o), inject: [TASKER_MODULE_OPTIONS] },
    {
      provide: TASKER_DATA_SOURCE,
      useFactory: (c: { schema: string; statementTimeoutMs: number }) => new TaskerDatabase(c.schema, c.statementTimeoutMs),
      inject: [TASKER_CONFIG],
    },
    repository(TaskRepository),
    repository(StepRepository),
    repository(DefinitionRepository),
    repository(MonitoringRepository),
    TaskerMetadataAccessor,
    TaskerExplorer,
    HandlerRegistry,
    TaskTypeResolver,
    TaskerTracing,
    TaskerEventBus,
    TaskerLoggingListener,
    TaskerAuditService,
    AfterCommit,
    StepExecutor,
    OutcomeRecorder,
    TaskerWorker,
    WakeListener,
    LeaseSweeper,
    TaskerBootstrap,
    TaskerService,
  ],
  exports: [TaskerService, TaskerAuditService, TASKER_DATA_SOURCE, TASKER_CONFIG, HandlerRegistry, TaskerWorker, LeaseSweeper],
})
export class TaskerModule extends ConfigurableModuleClass {}
