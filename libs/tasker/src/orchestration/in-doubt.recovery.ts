import { Inject, Injectable, Logger } from '@nestjs/common';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import type { TransitionRow } from '../persistence/rows';
import { InDoubtMark, StepRepository } from '../persistence/step.repository';
import { TASKER_CONFIG } from '../tasker.constants';
import { IN_DOUBT_RECOVERED } from '../tasker.messages';
import { TransitionPublisher } from './transition.publisher';

interface Pending extends InDoubtMark {
  /** Until then a mark not found is looked for again: its statement may still be running on the server. */
  until: number;
}

/** How long the transitions already published from here are remembered (to publish each once). */
const REMEMBER_MS = 10 * 60_000;

/**
 * Publishes the lifecycle events of statements whose commit this process could not confirm: the
 * connection died after the request, so the answer (and the transitions in it) never came, while
 * the server may have committed. Their marks (InDoubtMark) are kept until the database answers
 * again; then what committed is read back and published, once: a transition found through several
 * marks (a completion and the claim that rode with it) is published a single time. Its events come
 * late, after events of later changes.
 */
@Injectable()
export class InDoubtRecovery {
  private readonly logger = new Logger('Tasker');
  private pending: Pending[] = [];
  /** Transitions published from here (by id), with when. */
  private readonly published = new Map<string, number>();
  private running?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private owner = '';
  private stopped = false;

  constructor(
    private readonly steps: StepRepository,
    private readonly publisher: TransitionPublisher,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
  ) {}

  /** The worker whose statements these are (the actor of their transitions). */
  attach(owner: string): void {
    this.owner = owner;
  }

  /**
   * Records statements whose answer was lost. `mayStillRun`: the statement may still be running on
   * the server (no later statement on the same rows saw it done): it is looked for during a lease.
   */
  add(marks: InDoubtMark[], mayStillRun = false): void {
    if (marks.length === 0 || !this.owner) return;
    const until = mayStillRun ? Date.now() + this.config.worker.leaseMs : 0;
    for (const m of marks) this.pending.push({ ...m, until });
    this.schedule(0);
  }

  /** Reads back and publishes what is pending now; resolves when done (or when the database is still away). */
  recover(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Reads back and publishes at once what committed of these statements (for claims whose steps are
   * about to be given back: later, a new start of the same step could be taken for theirs). Throws
   * what the read threw; nothing is kept then, the caller tries again.
   */
  async recoverNow(marks: InDoubtMark[]): Promise<void> {
    if (marks.length === 0 || !this.owner) return;
    this.publishOnce(await this.steps.committedBy(this.owner, marks));
  }

  /** At shutdown: one last pass, then no more. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    if (this.pending.length > 0) await this.recover();
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.recover();
    }, ms);
  }

  /**
   * Publishes each transition not published from here yet. A transaction found by several marks is
   * read once per lookup, each time on the tasks of its marks (a claim's orphans are read back before
   * the completions that rode with it), so what is remembered is the transition, not the transaction.
   */
  private publishOnce(found: { xid: string; rows: TransitionRow[] }[]): void {
    const now = Date.now();
    for (const [id, at] of this.published) if (now - at > REMEMBER_MS) this.published.delete(id);
    let transactions = 0;
    let transitions = 0;
    for (const g of found) {
      // One sequence numbers the transitions of tasks and steps: an id names one transition.
      const fresh = g.rows.filter((r) => !this.published.has(r.transition_id));
      if (fresh.length === 0) continue;
      for (const r of fresh) this.published.set(r.transition_id, now);
      this.publisher.publishRecovered(fresh);
      transactions++;
      transitions += fresh.length;
    }
    if (transactions > 0) this.logger.warn(IN_DOUBT_RECOVERED(transactions, transitions));
  }

  private async pass(): Promise<void> {
    const marks = this.pending;
    if (marks.length === 0) return;
    this.pending = [];
    let found: { xid: string; rows: TransitionRow[] }[];
    try {
      found = await this.steps.committedBy(this.owner, marks);
    } catch {
      // Still away: the marks wait for the next pass.
      this.pending.push(...marks);
      this.schedule(Math.min(1_000, this.config.worker.leaseMs / 3));
      return;
    }
    const now = Date.now();
    this.publishOnce(found);
    // A mark not found may belong to a statement the server has not finished yet.
    const again = marks.filter((m) => m.until > now && !found.some((g) => g.rows.some((r) => matches(m, r))));
    if (again.length > 0) {
      this.pending.push(...again);
      this.schedule(Math.min(1_000, this.config.worker.leaseMs / 3));
    }
  }
}

function matches(m: InDoubtMark, r: TransitionRow): boolean {
  return r.kind === 'step' && String(r.step_id) === m.stepId && (m.claimed ? r.to_state === 'in_progress' : r.from_state === 'in_progress');
}
