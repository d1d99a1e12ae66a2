import type { SerializedError } from '../orchestration/outcome';
import { claimStepsSql } from './sql/claim-steps.sql';
import { completeStepSql } from './sql/complete-step.sql';
import { completeStepsSql } from './sql/complete-steps.sql';
import { completeAndClaimSql } from './sql/complete-and-claim.sql';
import { expireLeasesSql } from './sql/expire-leases.sql';
import { findOrphansSql } from './sql/find-orphans.sql';
import { failStepSql } from './sql/fail-step.sql';
import { releaseStepSql } from './sql/release-step.sql';
import { renewLeasesSql } from './sql/renew-leases.sql';
import { ClaimRow, claimFromJson, TransitionRow, transitionFromJson } from './rows';
import { TaskerDatabase } from './tasker-database';

/** The engine's statements: claims, outcomes and leases. */
export class StepRepository {
  constructor(private readonly db: TaskerDatabase) {}

  claim(owner: string, types: number[], limit: number, leaseMs: number): Promise<ClaimRow[]> {
    return this.db.query<ClaimRow>(claimStepsSql(this.db.s), [owner, types, limit, leaseMs]);
  }

  /** `results` is already JSON text. An empty answer means the lease was lost: the outcome was discarded. */
  complete(stepId: string, token: string, results: string): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(completeStepSql(this.db.s), [stepId, token, results]);
  }

  /** Several successes in one statement; a step missing from the answer lost its lease (its outcome was discarded). */
  completeMany(items: { stepId: string; token: string; results: string }[]): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(completeStepsSql(this.db.s), [
      items.map((i) => i.stepId),
      items.map((i) => i.token),
      items.map((i) => i.results),
    ]);
  }

  /** completeMany, then a claim for `owner` in the same transaction (it sees the dependents just made ready). */
  async completeAndClaim(
    items: { stepId: string; token: string; results: string }[],
    claim: { owner: string; types: number[]; limit: number; leaseMs: number },
  ): Promise<{ transitions: TransitionRow[]; claims: ClaimRow[] }> {
    const rows = await this.db.query<{ part: number; row: Record<string, unknown> }>(completeAndClaimSql(this.db.s), [
      items.map((i) => i.stepId),
      items.map((i) => i.token),
      items.map((i) => i.results),
      claim.owner,
      claim.types,
      claim.limit,
      claim.leaseMs,
    ]);
    return {
      transitions: rows.filter((r) => r.part === 0).map((r) => transitionFromJson(r.row)),
      claims: rows.filter((r) => r.part === 1).map((r) => claimFromJson(r.row)),
    };
  }

  fail(stepId: string, token: string, error: SerializedError, retryAt: Date | null): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(failStepSql(this.db.s), [stepId, token, JSON.stringify(error), retryAt]);
  }

  release(stepId: string, token: string, reason: string): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(releaseStepSql(this.db.s), [stepId, token, reason]);
  }

  async renew(tokens: string[], leaseMs: number): Promise<Set<string>> {
    if (tokens.length === 0) return new Set();
    const rows = await this.db.query<{ token: string }>(renewLeasesSql(this.db.s), [tokens, leaseMs]);
    return new Set(rows.map((r) => r.token));
  }

  /** Steps in progress under `owner`'s lease but not among its running attempts (see findOrphansSql). */
  orphans(owner: string, running: string[]): Promise<Pick<ClaimRow, 'step_id' | 'task_id' | 'step_name' | 'attempt' | 'lease_token'>[]> {
    return this.db.query(findOrphansSql(this.db.s), [owner, running]);
  }

  expire(limit: number): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(expireLeasesSql(this.db.s), [limit]);
  }
}
