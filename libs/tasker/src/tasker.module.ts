import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TaskerExplorer } from './discovery/tasker.explorer';
import { TaskerMetadataAccessor } from './discovery/tasker-metadata.accessor';
import { AfterCommit } from './events/after-commit';
import { TaskerAuditService } from './tasker-audit.service';
import { TaskerEventBus } from './events/tasker-event-bus';
import { TaskerLoggingListener } from './events/tasker-logging.listener';
import type { RetryDelays, TaskerModuleOptions } from './interfaces/tasker-options.interface';
import { LeaseSweeper } from './orchestration/lease.sweeper';
import { InDoubtRecovery } from './orchestration/in-doubt.recovery';
import { OutcomeRecorder } from './orchestration/outcome.recorder';
import { BulkActions } from './orchestration/bulk.actions';
import { RetentionSweeper } from './orchestration/retention.sweeper';
import { ScheduleRunner } from './orchestration/schedule.runner';
import { TaskPurger } from './orchestration/task.purger';
import { StepClaimer } from './orchestration/step.claimer';
import { StepExecutor } from './orchestration/step.executor';
import { TaskerWorker } from './orchestration/tasker.worker';
import { TransitionPublisher } from './orchestration/transition.publisher';
import { WakeListener } from './orchestration/wake.listener';
import { WorkSignals } from './orchestration/work.signals';
import { DefinitionRepository } from './persistence/definition.repository';
import { MonitoringRepository } from './persistence/monitoring.repository';
import { OperationsRepository } from './persistence/operations.repository';
import { ScheduleRepository } from './persistence/schedule.repository';
import { StepRepository } from './persistence/step.repository';
import { TaskRepository } from './persistence/task.repository';
import { TaskerDatabase } from './persistence/tasker-database';
import { HandlerRegistry } from './registry/handler.registry';
import { TaskRequestBuilder } from './orchestration/task-request.builder';
import { TaskTypeResolver } from './orchestration/task-type.resolver';
import { TaskerBootstrap } from './tasker.bootstrap';
import { normalizeOptions } from './tasker-config';
import { TASKER_CONFIG, TASKER_DATABASE, TASKER_RETRY_DELAYS } from './tasker.constants';
import { TaskerInternals } from './tasker.internals';
import { ConfigurableModuleClass, TASKER_MODULE_OPTIONS } from './tasker.module-definition';
import { TaskerService } from './tasker.service';
import { FleetReader } from './operations/fleet.reader';
import { OperatorActions } from './operations/operator.actions';
import { ScheduleCatalog } from './operations/schedule.catalog';
import { TaskerTracing } from './tracing/tasker-tracing';

const repository = <T>(Repo: new (db: TaskerDatabase) => T) => ({
  provide: Repo,
  useFactory: (db: TaskerDatabase) => new Repo(db),
  inject: [TASKER_DATABASE],
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
      provide: TASKER_DATABASE,
      useFactory: (c: { schema: string; statementTimeoutMs: number }) => new TaskerDatabase(c.schema, c.statementTimeoutMs),
      inject: [TASKER_CONFIG],
    },
    { provide: TASKER_RETRY_DELAYS, useValue: 'real' satisfies RetryDelays },
    repository(TaskRepository),
    repository(StepRepository),
    repository(DefinitionRepository),
    repository(MonitoringRepository),
    repository(ScheduleRepository),
    repository(OperationsRepository),
    TaskerMetadataAccessor,
    TaskerExplorer,
    HandlerRegistry,
    TaskTypeResolver,
    TaskRequestBuilder,
    TaskerTracing,
    TaskerEventBus,
    TaskerLoggingListener,
    TaskerAuditService,
    AfterCommit,
    TransitionPublisher,
    WorkSignals,
    StepClaimer,
    StepExecutor,
    OutcomeRecorder,
    InDoubtRecovery,
    TaskerWorker,
    WakeListener,
    LeaseSweeper,
    ScheduleRunner,
    BulkActions,
    TaskPurger,
    RetentionSweeper,
    TaskerBootstrap,
    OperatorActions,
    FleetReader,
    ScheduleCatalog,
    TaskerService,
    TaskerInternals,
  ],
  // The app sees TaskerService and TaskerAuditService; the admin module and the testing kit, TaskerInternals.
  exports: [TaskerService, TaskerAuditService, TaskerInternals],
})
export class TaskerModule extends ConfigurableModuleClass {}
