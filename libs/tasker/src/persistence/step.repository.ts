import { createHash } from 'node:crypto';
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

/**
 * A statement run as a prepared statement. Its name is unique per text (the schema is part of it)
 * and names the functions it calls, so it reads in pg_prepared_statements and on the wire (the
 * fault tests' proxy recognizes requests by those names).
 */
interface Prepared {
  sql: string;
  name: string;
}

function prepared(label: string, sql: string): Prepared {
  return { sql, name: `tasker_${label}_${createHash('sha1').update(sql).digest('hex').slice(0, 12)}` };
}

/**
 * The engine's statements: claims, outcomes and leases. The two a worker runs for every step (its
 * claim, and its outcomes with the next claim) are prepared statements: parsed and planned once
 * per connection instead of every time.
 */
export class StepRepository {
  private readonly claimStatement: Prepared;
  private readonly completeAndClaimStatement: Prepared;
  private readonly completeOneAndClaimStatement: Prepared;

  constructor(private readonly db: TaskerDatabase) {
    this.claimStatement = prepared('claim_steps', claimStepsSql(db.s));
    this.completeAndClaimStatement = prepared('complete_steps_claim_steps', completeAndClaimSql(db.s, 'many'));
    this.completeOneAndClaimStatement = prepared('complete_one_claim_steps', completeAndClaimSql(db.s, 'one'));
  }

  claim(owner: string, types: number[], limit: number, leaseMs: number): Promise<ClaimRow[]> {
    const { sql, name } = this.claimStatement;
    return this.db.query<ClaimRow>(sql, [owner, types, limit, leaseMs], undefined, name);
  }

  /** `results` is already JSON text. An empty answer means the lease was lost: the outcome was discarded. */
  complete(stepId: string, token: string, results: string): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(completeStepSql(this.db.s), [stepId, token, results]);
  }

  /** Several successes in one statement; a step missing from the answer lost its lease (its outcome was discarded). */
  completeMany(items: { stepId: string; token: string; results: string }[]): Promise<TransitionRow[]> {
    if (items.length === 1) return this.complete(items[0].stepId, items[0].token, items[0].results);
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
    const one = items.length === 1;
    const { sql, name } = one ? this.completeOneAndClaimStatement : this.completeAndClaimStatement;
    const rows = await this.db.query<{ part: number; row: Record<string, unknown> }>(sql, [
      one ? items[0].stepId : items.map((i) => i.stepId),
      one ? items[0].token : items.map((i) => i.token),
      one ? items[0].results : items.map((i) => i.results),
      claim.owner,
      claim.types,
      claim.limit,
      claim.leaseMs,
    ], undefined, name);
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
