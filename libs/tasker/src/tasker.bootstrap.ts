import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { SchedulerRegistry } from '@nestjs/schedule';
import { TaskerExplorer } from './discovery/tasker.explorer';
import { DatabaseUnavailableError, DefinitionConflictError, TaskerConfigError } from './errors/boot.errors';
import type { TaskerConfig } from './interfaces/tasker-options.interface';
import { LeaseSweeper } from './orchestration/lease.sweeper';
import { RetentionSweeper } from './orchestration/retention.sweeper';
import { ScheduleRunner } from './orchestration/schedule.runner';
import { TaskerWorker } from './orchestration/tasker.worker';
import { WakeListener } from './orchestration/wake.listener';
import { openDataSource } from './persistence/data-source.factory';
import { DefinitionRepository } from './persistence/definition.repository';
import { pendingTaskerMigrations, runTaskerMigrations } from './persistence/migration.runner';
import { ScheduleRepository } from './persistence/schedule.repository';
import { TaskerDatabase } from './persistence/tasker-database';
import { HandlerRegistry } from './registry/handler.registry';
import { assertScheduleContexts } from './registry/schedule-definitions';
import { TASKER_CONFIG, TASKER_DATABASE } from './tasker.constants';
import {
  CLASS_VALIDATOR_MISSING,
  EVENT_EMITTER_MISSING,
  HANDLERS_REGISTERED,
  MIGRATIONS_APPLIED,
  MIGRATIONS_PENDING,
  SCHEDULE_MISSING,
  SCHEDULES_REMOVED_LOG,
  SCHEMA_NOT_PREPARED,
} from './tasker.messages';

/**
 * Boot and shutdown, in the order nestjs/schedule uses: check and prepare everything in
 * onModuleInit (a bad workflow or database stops the app before anything runs), start the worker
 * in onApplicationBootstrap, stop it in beforeApplicationShutdown, close the database last.
 */
@Injectable()
export class TaskerBootstrap implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Tasker');

  constructor(
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
    @Inject(TASKER_DATABASE) private readonly db: TaskerDatabase,
    private readonly moduleRef: ModuleRef,
    private readonly explorer: TaskerExplorer,
    private readonly registry: HandlerRegistry,
    private readonly definitions: DefinitionRepository,
    private readonly worker: TaskerWorker,
    private readonly listener: WakeListener,
    private readonly sweeper: LeaseSweeper,
    private readonly schedules: ScheduleRepository,
    private readonly scheduleRunner: ScheduleRunner,
    private readonly retention: RetentionSweeper,
    @Optional() private readonly emitter?: EventEmitter2,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.emitter) throw new TaskerConfigError(EVENT_EMITTER_MISSING());
    if (!this.scheduler) throw new TaskerConfigError(SCHEDULE_MISSING());
    const handlers = this.explorer.explore(this.config);
    if (handlers.some((h) => h.contextDto)) requireClassValidator();
    await assertScheduleContexts(handlers);

    const { dataSource, owned } = await openDataSource(this.config, this.moduleRef);
    this.db.attach(dataSource, owned);
    try {
      if (this.config.migrationsRun) {
        const applied = await runTaskerMigrations(dataSource, this.config.schema);
        if (applied.length > 0) this.logger.log(MIGRATIONS_APPLIED(this.config.schema, applied));
      } else {
        const pending = await pendingTaskerMigrations(dataSource, this.config.schema);
        if (pending.length > 0) throw new TaskerConfigError(MIGRATIONS_PENDING(this.config.schema, pending));
      }
      for (const h of handlers) {
        const typeId = await this.definitions.register(h);
        this.registry.add(h, typeId);
        // Also with none declared: the schedules this version's code no longer declares are removed.
        const removed = await this.schedules.sync(typeId, h.schedules ?? []);
        if (removed.length > 0) this.logger.log(SCHEDULES_REMOVED_LOG(`${h.namespace}/${h.name}@${h.version}`, removed));
      }
    } catch (e) {
      await this.db.close().catch(() => undefined);
      if (e instanceof TaskerConfigError || e instanceof DefinitionConflictError) throw e;
      throw new DatabaseUnavailableError(SCHEMA_NOT_PREPARED(this.config.schema, (e as Error).message));
    }
    if (handlers.length > 0) {
      this.logger.log(HANDLERS_REGISTERED(handlers.map((h) => `${h.namespace}/${h.name}@${h.version}`)));
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    // Retention is housekeeping, not work: an API-only process with the option sweeps too.
    this.retention.start();
    if (!this.config.worker.enabled) return;
    await this.worker.start();
    this.sweeper.start();
    await this.listener.start();
    this.scheduleRunner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.retention.stop();
    await this.scheduleRunner.stop();
    this.sweeper.stop();
    await this.listener.stop();
    await this.worker.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}

function requireClassValidator(): void {
  try {
    require('class-validator');
    require('class-transformer');
  } catch {
    throw new TaskerConfigError(CLASS_VALIDATOR_MISSING());
  }
}
