import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { TASKER_CONFIG } from '../tasker.constants';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import { TaskerEventBus } from './tasker-event-bus';
import { TaskerEvents, TaskerEventPayload } from './tasker-events';
import { escapeLogText } from './log-text';

/**
 * Structured log lines for lifecycle events through Nest's Logger. Never logs task contexts or
 * step results (they may hold personal data); ids, names, attempts and errors only.
 * Disable with `logging: false`, or replace it by subscribing to the events yourself.
 */
@Injectable()
export class TaskerLoggingListener implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Tasker');
  private unsubscribe?: () => void;

  constructor(
    private readonly bus: TaskerEventBus,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.logging) this.unsubscribe = this.bus.onAny((_, p) => this.log(p));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private log(p: TaskerEventPayload): void {
    const where = `${p.namespace}/${p.taskName}@${p.version} task=${p.taskId}`;
    const step = 'stepName' in p ? ` step=${p.stepName}${p.attempt !== undefined ? ` attempt=${p.attempt}` : ''}` : '';
    const took = 'durationMs' in p && p.durationMs !== undefined ? ` durationMs=${p.durationMs}` : '';
    const by = p.actor && !p.actor.startsWith('worker:') ? ` actor=${p.actor}` : '';
    // Names, actors and error messages come from callers and upstream services: escaped, one event stays one line.
    const line = escapeLogText(`${p.event} ${where}${step}${took}${by}`);
    switch (p.event) {
      case TaskerEvents.STEP_FAILED:
        this.logger.warn(
          `${line} error=${escapeLogText(`${p.error.name}: ${p.error.message}`)}${p.willRetry ? ` retryAt=${p.nextRetryAt?.toISOString()}` : ' (no retry)'}`,
        );
        break;
      case TaskerEvents.TASK_FAILED:
        this.logger.error(line);
        break;
      case TaskerEvents.STEP_STARTED:
        this.logger.debug(line);
        break;
      default:
        this.logger.log(line);
    }
  }
}
