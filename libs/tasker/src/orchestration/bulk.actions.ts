import { Injectable } from '@nestjs/common';
import type { BulkResult } from '../interfaces/views.interface';
import { OperationsRepository } from '../persistence/operations.repository';
import type { TransitionRow } from '../persistence/rows';
import type { TaskState } from '../state/states';
import { BULK_ACTION_BATCH } from '../tasker.constants';
import { TransitionPublisher } from './transition.publisher';
import { WorkSignals } from './work.signals';

export type BulkAction = 'retry' | 'cancel';

/** The states a task may be in for each action; where the task goes. */
const RULES: Record<BulkAction, { from: readonly TaskState[]; to: TaskState }> = {
  retry: { from: ['error'], to: 'pending' },
  cancel: { from: ['pending', 'in_progress', 'error'], to: 'cancelled' },
};

/**
 * Retries or cancels every task matching a filter, a batch per transaction (ids ascending, so a
 * task retried that fails again at once is not taken twice), each task by the single-task rule with
 * its own audit entries and events. A batch passes over the tasks a worker holds at that moment;
 * those are done afterwards one by one, waiting for their lock as retryTask/cancelTask do.
 */
@Injectable()
export class BulkActions {
  /** Tasks per transaction; small in tests so that several batches run. */
  batchSize = BULK_ACTION_BATCH;

  constructor(
    private readonly operations: OperationsRepository,
    private readonly publisher: TransitionPublisher,
    private readonly signals: WorkSignals,
  ) {}

  async run(action: BulkAction, filter: string, actor: string | null, reason: string | null): Promise<BulkResult> {
    const rule = RULES[action];
    let count = 0;
    const passedOver: string[] = [];
    let after = '0';
    for (;;) {
      const ids = await this.operations.candidates(filter, rule.from, after, this.batchSize);
      if (ids.length === 0) break;
      after = ids[ids.length - 1];
      const done = await this.batch(action, ids, filter, actor, reason, false);
      count += done.size;
      passedOver.push(...ids.filter((id) => !done.has(id)));
    }
    // Mostly tasks a worker held for a moment; some may no longer match (their state moved on).
    for (const id of passedOver) count += (await this.batch(action, [id], filter, actor, reason, true)).size;
    return { count };
  }

  /** One transaction; the ids of the batch's tasks it moved (a cascade's children are not counted). */
  private async batch(action: BulkAction, ids: string[], filter: string, actor: string | null, reason: string | null, wait: boolean): Promise<Set<string>> {
    const rows = await this.publisher.change(this.operations.act(action, ids, filter, actor, reason, wait), (r) => r);
    const inBatch = new Set(ids);
    const moved = new Set(rows.filter((r) => isTaskMove(r, RULES[action].to) && inBatch.has(r.task_id)).map((r) => r.task_id));
    if (action === 'cancel') for (const r of rows) if (isTaskMove(r, 'cancelled')) this.signals.cancelled(r.task_id);
    if (moved.size > 0) this.signals.work();
    return moved;
  }
}

function isTaskMove(r: TransitionRow, to: TaskState): boolean {
  return r.kind === 'task' && r.to_state === to;
}
