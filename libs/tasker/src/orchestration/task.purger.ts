import { Inject, Injectable } from '@nestjs/common';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import { OperationsRepository } from '../persistence/operations.repository';
import { TERMINAL_TASK_STATES, type TaskState } from '../state/states';
import { DEFAULT_RETENTION_BATCH, TASKER_CONFIG } from '../tasker.constants';

/** Told after each batch of deleted tasks: how many of which state. */
export type PurgeListener = (state: TaskState, count: number) => void;

/**
 * Deletes finished tasks in batches, one short transaction each, until none is left: the
 * retention sweep and purgeTasks. A batch never waits for a lock (SKIP LOCKED), so workers never
 * wait for it either, and the purge rests between batches (see purge).
 */
@Injectable()
export class TaskPurger {
  private readonly listeners: PurgeListener[] = [];

  constructor(
    private readonly operations: OperationsRepository,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
  ) {}

  onPurge(listener: PurgeListener): void {
    this.listeners.push(listener);
  }

  /** Deletes the tasks in `states` that finished before `before`; `until` ends the loop early (shutdown). */
  async purge(before: Date, states: readonly TaskState[] = TERMINAL_TASK_STATES, until: () => boolean = () => false): Promise<number> {
    const batch = this.config.retention?.batchSize ?? DEFAULT_RETENTION_BATCH;
    let total = 0;
    while (!until()) {
      const began = performance.now();
      const rows = await this.operations.purge(before, states, batch);
      let n = 0;
      for (const r of rows) {
        n += r.purged;
        for (const l of this.listeners) l(r.state, r.purged);
      }
      total += n;
      if (n < batch) break;
      // Rests as long as the batch took: a purge takes at most about half of one backend's time
      // from the live work beside it. Without the rest, a worker draining plain jobs on both cores
      // of the bench's machine lost a quarter of its rate to the purge (target: a fifth at most).
      await new Promise((r) => setTimeout(r, Math.min(1_000, performance.now() - began)));
    }
    return total;
  }
}
