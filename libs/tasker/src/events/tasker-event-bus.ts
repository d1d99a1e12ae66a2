import { Injectable, Logger, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { TransitionRow } from '../persistence/rows';
import type { TaskerEventPayload } from './tasker-events';
import { eventForTransition } from './transition-events';
import { escapeLogText } from './log-text';

/**
 * Publishes lifecycle events after their transitions committed. Called once per committed
 * transition by the process that made it, so each event is emitted once. A subscriber that
 * throws (or rejects) is logged and never reaches orchestration.
 */
@Injectable()
export class TaskerEventBus {
  private readonly logger = new Logger('Tasker');

  // Optional so that a missing EventEmitterModule.forRoot() is reported by TaskerBootstrap with what to do,
  // not by Nest as an unresolved dependency of this class.
  constructor(@Optional() private readonly emitter: EventEmitter2) {}

  publishTransitions(rows: readonly TransitionRow[]): void {
    for (const row of rows) {
      const payload = eventForTransition(row);
      if (payload) this.publish(payload);
    }
  }

  publish(payload: TaskerEventPayload): void {
    const report = (e: unknown) => this.logger.error(escapeLogText(`A subscriber of ${payload.event} threw: ${(e as Error)?.message ?? String(e)}`));
    try {
      // emitAsync, not emit: an async subscriber's rejection (e.g. @OnEvent with suppressErrors: false)
      // must be caught here, not left unhandled to crash the process.
      const settled = this.emitter.emitAsync(payload.event, payload) as Promise<unknown> | false;
      if (settled) settled.catch(report);
    } catch (e) {
      report(e);
    }
  }

  /** Subscribes to every Tasker event without requiring the host to enable wildcards. */
  onAny(listener: (event: string, payload: TaskerEventPayload) => void): () => void {
    const wrapped = (event: string | string[], payload: TaskerEventPayload) => {
      if (typeof event !== 'string' || !event.startsWith('tasker.')) return;
      try {
        listener(event, payload);
      } catch (e) {
        this.logger.error(escapeLogText(`A Tasker listener threw: ${(e as Error)?.message ?? String(e)}`));
      }
    };
    this.emitter.onAny(wrapped);
    return () => this.emitter.offAny(wrapped);
  }
}
