import { Injectable } from '@nestjs/common';
import { TaskerEventBus } from '../events/tasker-event-bus';
import type { TransitionRow } from '../persistence/rows';
import { TaskerTracing } from '../tracing/tasker-tracing';

// Ids are decimal text (bigint): a shorter one is smaller, equal lengths compare as text.
const byTransitionId = (a: TransitionRow, b: TransitionRow) =>
  a.transition_id.length - b.transition_id.length || (a.transition_id < b.transition_id ? -1 : a.transition_id > b.transition_id ? 1 : 0);

/**
 * Publishes the lifecycle events of committed transitions, in commit order, once each.
 *
 * A claim can see a change that committed before that change's answer (and so its events) reached
 * this process: a dependent's step.started must still not go out before its parent's
 * step.completed, nor a task's task.started before its task.created. So every statement that
 * changes state runs through `change`, and a claim's transitions are published by `afterChanges`,
 * once the changes in flight at that moment are published.
 */
@Injectable()
export class TransitionPublisher {
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The highest transition id this process has seen in an answer (see highWater). */
  private seen = 0n;

  constructor(
    private readonly bus: TaskerEventBus,
    private readonly tracing: TaskerTracing,
  ) {}

  /** Runs a statement that changes state; its transitions (`rowsOf` its answer) are published when it returns. */
  change<T>(statement: Promise<T>, rowsOf: (answer: T) => readonly TransitionRow[]): Promise<T> {
    const tracked = statement.then((answer) => {
      this.publish(rowsOf(answer));
      return answer;
    });
    this.inFlight.add(tracked);
    const done = () => this.inFlight.delete(tracked);
    tracked.then(done, done);
    return tracked;
  }

  /** Keeps claims' events behind `work` (a change made outside `change`, e.g. in a caller's transaction) until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    return this.change(work, () => []);
  }

  /** Publishes a claim's transitions after every change in flight now. */
  async afterChanges(rows: readonly TransitionRow[]): Promise<void> {
    if (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.publish(rows);
  }

  /**
   * The highest transition id this process has seen: a statement sent now writes only larger ones,
   * so this marks where to look for its transitions if its answer is lost. `atLeast`: a floor read
   * from the database (the sequence) before this process saw any.
   */
  highWater(atLeast?: string): string {
    if (atLeast !== undefined && BigInt(atLeast) > this.seen) this.seen = BigInt(atLeast);
    return this.seen.toString();
  }

  /** Publishes the transitions of a statement whose answer was lost, read back once the database answered. */
  publishRecovered(rows: readonly TransitionRow[]): void {
    this.publish(rows);
  }

  private publish(rows: readonly TransitionRow[]): void {
    if (rows.length === 0) return;
    for (const r of rows) if (BigInt(r.transition_id) > this.seen) this.seen = BigInt(r.transition_id);
    // One statement's transitions in the order they were written (one sequence numbers them all).
    const ordered = [...rows].sort(byTransitionId);
    this.tracing.settled(ordered);
    this.bus.publishTransitions(ordered);
  }
}
