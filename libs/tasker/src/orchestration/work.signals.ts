import { Injectable } from '@nestjs/common';

interface Handlers {
  /** Work may be ready now. */
  work: () => void;
  /** Work of this process becomes ready at that time (a delayed start, a retry). */
  workAt: (at: Date) => void;
  /** A NOTIFY on the schema's channel, other than a cancellation (its payload). */
  notified: (payload: string) => void;
  /** The task was cancelled: its running attempts must stop. */
  cancelled: (taskId: string) => void;
}

/**
 * How the parts of a process tell the worker that something happened, without calling into it:
 * the service (tasks created, cancelled), the LISTEN connection (other processes' NOTIFYs) and
 * the lease sweep signal here; the claimer and the worker subscribe.
 */
@Injectable()
export class WorkSignals {
  /**
   * True while the LISTEN connection is up: the NOTIFY of a task created by this process then
   * reaches its worker too, and tasksCreated leaves the wake-up to it (a second claim would hold
   * the claim slot when the first step finished, and its dependents would wait a round-trip).
   */
  listening = false;
  private readonly handlers: Partial<Handlers>[] = [];

  on(handlers: Partial<Handlers>): void {
    this.handlers.push(handlers);
  }

  work(): void {
    for (const h of this.handlers) h.work?.();
  }

  workAt(at: Date): void {
    for (const h of this.handlers) h.workAt?.(at);
  }

  /** Tasks were created in this process: woken by their NOTIFY when listening, at once otherwise. */
  tasksCreated(): void {
    if (!this.listening) this.work();
  }

  cancelled(taskId: string): void {
    for (const h of this.handlers) h.cancelled?.(taskId);
  }

  /** A NOTIFY payload as it arrived: 'cancel:<id>', 'ready:<owner>' or ''. */
  notification(payload: string): void {
    if (payload.startsWith('cancel:')) this.cancelled(payload.slice('cancel:'.length));
    for (const h of this.handlers) h.notified?.(payload);
  }
}
