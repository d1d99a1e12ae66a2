import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { TaskerEvents } from 'nestjs-tasker';
import type { TaskEventPayload } from 'nestjs-tasker';

/** Lifecycle events are ordinary @nestjs/event-emitter events: here, a failed order pages support. */
@Injectable()
export class OrderAlerts {
  private readonly logger = new Logger(OrderAlerts.name);
  readonly raised: { taskId: string; at: Date }[] = [];

  @OnEvent(TaskerEvents.TASK_FAILED)
  onTaskFailed(event: TaskEventPayload): void {
    if (event.namespace !== 'fulfillment' || event.taskName !== 'order_processing') return;
    this.raised.push({ taskId: event.taskId, at: event.occurredAt });
    this.logger.warn(`Order task ${event.taskId} failed: it waits for an operator (retry, resolve or cancel).`);
  }
}
