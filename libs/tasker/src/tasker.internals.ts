import { Injectable } from '@nestjs/common';
import { StepClaimer } from './orchestration/step.claimer';
import { PurgeListener, TaskPurger } from './orchestration/task.purger';
import { HandlerRegistry, RegisteredHandler } from './registry/handler.registry';

/**
 * The one seam through which Tasker's own companions read its engine: the admin module
 * (`nestjs-tasker/admin`: claim metrics) and the testing kit (`nestjs-tasker/testing`: the handlers
 * it injects faults into). `TaskerModule` exports it next to `TaskerService`, so they can inject
 * it, but the package does not export the class: it is not part of the public API, and what it
 * offers may change in any release. The worker, sweeper, registry and configuration stay private.
 */
@Injectable()
export class TaskerInternals {
  constructor(
    private readonly claimer: StepClaimer,
    private readonly registry: HandlerRegistry,
    private readonly purger: TaskPurger,
  ) {}

  /** Calls `listener` after each batch of tasks this process deleted (retention sweep or purgeTasks). */
  onPurge(listener: PurgeListener): void {
    this.purger.onPurge(listener);
  }

  /**
   * Calls `listener` after each claim query of this process's worker: its latency, how many steps it
   * claimed, and whether it was a statement of its own (false: it rode with a batch of successes).
   */
  onClaim(listener: (latencyMs: number, claimed: number, alone: boolean) => void): void {
    this.claimer.onClaim(listener);
  }

  /** The task handlers registered in this process (with their instances and step definitions). */
  handlers(): readonly RegisteredHandler[] {
    return this.registry.all();
  }
}
