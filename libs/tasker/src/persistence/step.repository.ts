import { createHash } from 'node:crypto';
import type { SerializedError } from '../errors/serialized-error';
import { attemptStartOf, ClaimRow, claimFromJson, taskStartOf, TransitionRow, transitionFromJson, withTaskFields } from './rows';
import type { NewTaskRow } from './task.repository';
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
 * A statement of this worker whose answer never arrived, as it can be found again: the step it
 * concerned, and the highest transition id seen before it was sent (its rows are all above).
 * `claimed`: it was a claim (the step's start); otherwise it ended attempt `attempt` of the step.
 */
export interface InDoubtMark {
  stepId: string;
  taskId: string;
  afterId: string;
  claimed: boolean;
  attempt?: number;
}

/** A success to store: the attempt's claim (its step, lease token and task), and its results as JSON text. */
export interface Completion {
  claim: ClaimRow;
  results: string;
}

/** What a claim answers: the transitions it recorded (tasks and attempts started), then the claims. */
export interface Claimed {
  transitions: TransitionRow[];
  claims: ClaimRow[];
  /** When steps held back by a rate limit may start (look for work then). */
  wakeAt: Date | null;
}

/**
 * A claim's rows as JSON (part 2: a claim, part 4: when rate-limited steps may start); ids as text so
 * no bigint loses precision.
 */
const claimParts = (c: string) => `
SELECT CASE WHEN ${c}.wake_at IS NOT NULL THEN 4 ELSE 2 END AS part,
       CASE WHEN ${c}.wake_at IS NOT NULL THEN to_json(${c}.wake_at) ELSE ${claimJson(`(${c}.claim)`)} END AS row`;

/**
 * `json`, field by field, not to_jsonb of the row: building jsonb (sorted keys, a binary form turned
 * back into text for the wire) was a sixth of the database's time on a worker's statements.
 */
const jsonOf = (r: string, fields: string[], asText: string[]) =>
  `json_build_object(${fields.map((f) => `'${f}', ${r}.${f}${asText.includes(f) ? '::text' : ''}`).join(', ')})`;

/** The attributes of the composite types transition_event and claimed_step, in order (a unit test compares them with schema.sql). */
export const TRANSITION_FIELDS = ['kind', 'transition_id', 'task_id', 'task_name', 'namespace', 'version', 'step_id', 'step_name', 'from_state',
  'to_state', 'attempt', 'actor', 'reason', 'error', 'next_retry_at', 'duration_ms', 'at', 'task_created_at', 'trace_context'];
export const CLAIM_FIELDS = ['step_id', 'task_id', 'step_name', 'attempt', 'retry_limit', 'retryable', 'timeout_ms', 'backoff', 'lease_token',
  'claimed_at', 'task_name', 'namespace', 'version', 'task_state', 'context', 'tags', 'parent_results', 'trace_context', 'map_index',
  'item', 'resume', 'start_id', 'start_from', 'start_at', 'task_start_id', 'task_start_at', 'task_created_at'];
const transitionJson = (e: string) => jsonOf(e, TRANSITION_FIELDS, ['transition_id', 'task_id', 'step_id']);
const claimJson = (c: string) => jsonOf(c, CLAIM_FIELDS, ['step_id', 'task_id', 'start_id', 'task_start_id']);

/**
 * A worker's finished attempts stored and its next steps claimed in one round-trip and one
 * transaction, so the claim sees the dependents the completions just made ready. Part 0 are the
 * outcomes' transitions, parts 1 and 2 the claim's (see claimParts). UNION ALL runs its branches in
 * order. `many`: complete_steps over arrays. One success: complete_one, which leaves the wake-up to
 * the last branch, after the claim: it notifies the other workers only when a dependent is ready
 * and still unclaimed (its one row is not read). Exported for the tests that read its plans.
 */
export const completeAndClaimSql = (s: string, completions: 'many' | 'one') =>
  completions === 'many'
    ? `
SELECT 0 AS part, ${transitionJson('e')} AS row
  FROM ${s}.complete_steps($1::bigint[], $2::uuid[], $3::jsonb[]) e
UNION ALL
${claimParts('c')}
  FROM ${s}.claim_steps($4, $5::int[], $6, $7, $8, $9) c`
    : `
SELECT 0 AS part, ${transitionJson('e')} AS row
  FROM ${s}.complete_one($1::bigint, $2::uuid, $3::jsonb, false) e
UNION ALL
${claimParts('c')}
  FROM ${s}.claim_steps($4, $5::int[], $6, $7, $8, $9) c
UNION ALL
SELECT 3, NULL
  FROM ${s}._wake_for_unclaimed($1::bigint, $4) w`;

/**
 * The rows of a statement made of parts (see completeAndClaimSql), split into outcomes and claim. The
 * claim's transitions (the attempts' starts, and the tasks' it started) are built from its rows.
 */
function splitParts(rows: { part: number; row: unknown }[], owner: string): { outcomes: TransitionRow[] } & Claimed {
  const out = { outcomes: [] as TransitionRow[], transitions: [] as TransitionRow[], claims: [] as ClaimRow[], wakeAt: null as Date | null };
  let started: Set<string> | undefined;
  for (const r of rows) {
    if (r.part === 0) out.outcomes.push(transitionFromJson(r.row as Record<string, unknown>));
    else if (r.part === 2) {
      const claim = claimFromJson(r.row as Record<string, unknown>);
      out.claims.push(claim);
      // A task the claim started is on every row of its steps: its start is one transition.
      if (claim.task_start_id !== null && !(started ??= new Set()).has(claim.task_start_id)) {
        started.add(claim.task_start_id);
        out.transitions.push(taskStartOf(claim, owner));
      }
      out.transitions.push(attemptStartOf(claim, owner));
    } else if (r.part === 4) out.wakeAt = new Date(r.row as string);
  }
  return out;
}

/**
 * The engine's statements: claims, outcomes and leases, each a call of the function of the same
 * name (persistence/functions/<name>.sql). Those a worker runs for every step (its claim, and its
 * successes, with or beside the next claim) are prepared statements: parsed and planned once per
 * connection.
 */
export class StepRepository {
  private readonly claimStatement: Prepared;
  private readonly completeAndClaimStatement: Prepared;
  private readonly completeOneAndClaimStatement: Prepared;
  private readonly completeManyStatement: Prepared;

  constructor(private readonly db: TaskerDatabase) {
    this.claimStatement = prepared('claim_steps', `${claimParts('c')} FROM ${db.s}.claim_steps($1, $2::int[], $3, $4, $5, $6) c`);
    this.completeAndClaimStatement = prepared('complete_steps_claim_steps', completeAndClaimSql(db.s, 'many'));
    this.completeOneAndClaimStatement = prepared('complete_one_claim_steps', completeAndClaimSql(db.s, 'one'));
    this.completeManyStatement = prepared('complete_steps', `SELECT * FROM ${db.s}.complete_steps($1::bigint[], $2::uuid[], $3::jsonb[])`);
  }

  /** `fair`: how many of the steps go first to steps ready for at least `agingMs`, whatever their priority. */
  async claim(owner: string, types: number[], limit: number, leaseMs: number, fair: number, agingMs: number): Promise<Claimed> {
    const { sql, name } = this.claimStatement;
    return splitParts(await this.db.query(sql, [owner, types, limit, leaseMs, fair, agingMs], undefined, name), owner);
  }

  /** `results` is already JSON text. An empty answer means the lease was lost: the outcome was discarded. */
  complete(stepId: string, token: string, results: string): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.complete_one($1, $2::uuid, $3::jsonb)`, [stepId, token, results]);
  }

  /** Several successes in one statement; a step missing from the answer lost its lease (its outcome was discarded). */
  async completeMany(items: Completion[]): Promise<TransitionRow[]> {
    if (items.length === 1) return this.complete(items[0].claim.step_id, items[0].claim.lease_token, items[0].results);
    const { sql, name } = this.completeManyStatement;
    const rows = await this.db.query<TransitionRow>(
      sql,
      [items.map((i) => i.claim.step_id), items.map((i) => i.claim.lease_token), items.map((i) => i.results)],
      undefined,
      name,
    );
    return withTaskFields(rows, items.map((i) => i.claim));
  }

  /** completeMany, then a claim for `owner` in the same transaction (it sees the dependents just made ready). */
  async completeAndClaim(
    items: Completion[],
    claim: { owner: string; types: number[]; limit: number; leaseMs: number; fair: number; agingMs: number },
  ): Promise<{ outcomes: TransitionRow[] } & Claimed> {
    const one = items.length === 1;
    const { sql, name } = one ? this.completeOneAndClaimStatement : this.completeAndClaimStatement;
    const rows = await this.db.query<{ part: number; row: unknown }>(sql, [
      one ? items[0].claim.step_id : items.map((i) => i.claim.step_id),
      one ? items[0].claim.lease_token : items.map((i) => i.claim.lease_token),
      one ? items[0].results : items.map((i) => i.results),
      claim.owner,
      claim.types,
      claim.limit,
      claim.leaseMs,
      claim.fair,
      claim.agingMs,
    ], undefined, name);
    const answer = splitParts(rows, claim.owner);
    withTaskFields(answer.outcomes, items.map((i) => i.claim));
    return answer;
  }

  fail(stepId: string, token: string, error: SerializedError, retryAt: Date | null): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.fail_step($1, $2::uuid, $3::jsonb, $4::timestamptz)`, [
      stepId,
      token,
      JSON.stringify(error),
      retryAt,
    ]);
  }

  /** The attempt found the step's condition false: skipped, no attempt used. */
  skip(stepId: string, token: string, reason: string): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.skip_step($1, $2::uuid, $3)`, [stepId, token, reason]);
  }

  /** A map step's items (a JSON array as text): the step expands into one instance per item. */
  expand(stepId: string, token: string, itemsJson: string, maxParallel: number | null): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.expand_map($1, $2::uuid, $3::jsonb, $4)`, [stepId, token, itemsJson, maxParallel]);
  }

  /** The body returned a wait; `child`: the task to start, created with the wait. */
  wait(stepId: string, token: string, wait: Record<string, unknown>, child: NewTaskRow | null): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.wait_step($1, $2::uuid, $3::jsonb, $4::jsonb)`, [
      stepId,
      token,
      JSON.stringify(wait),
      child ? JSON.stringify(child) : null,
    ]);
  }

  release(stepId: string, token: string, reason: string): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.release_step($1, $2::uuid, $3)`, [stepId, token, reason]);
  }

  async renew(tokens: string[], leaseMs: number): Promise<Set<string>> {
    if (tokens.length === 0) return new Set();
    const rows = await this.db.query<{ token: string }>(`SELECT t AS token FROM ${this.db.s}.renew_leases($1::uuid[], $2) t`, [tokens, leaseMs]);
    return new Set(rows.map((r) => r.token));
  }

  /**
   * Steps in progress under `owner`'s lease that it is not running (`running`: its lease tokens):
   * claims that committed while their answer never reached the worker. Read only in the short window
   * after a failed claim.
   */
  orphans(owner: string, running: string[]): Promise<Pick<ClaimRow, 'step_id' | 'task_id' | 'step_name' | 'attempt' | 'lease_token'>[]> {
    return this.db.query(
      `SELECT id AS step_id, task_id, name AS step_name, attempts AS attempt, lease_token
         FROM ${this.db.s}.workflow_steps
        WHERE state = 'in_progress' AND lease_owner = $1 AND NOT (lease_token = ANY ($2::uuid[]))`,
      [owner, running],
    );
  }

  /**
   * The last transition id handed out so far: every transition of a statement sent after this read
   * has a larger id (one sequence numbers them all).
   */
  async transitionHighWater(): Promise<string> {
    const [row] = await this.db.read<{ id: string }>(`SELECT last_value::text AS id FROM ${this.db.s}.transition_seq`);
    return row.id;
  }

  /**
   * What committed of statements of `owner` whose answer never arrived, found by their marks (each
   * recorded after `afterId`, the highest transition id the worker had seen when it sent the
   * statement): `ended` — the row in which `owner` ended attempt `attempt` of the step (an outcome);
   * `claimed` — the step's latest start by `owner` (a claim). Each mark found stands for its
   * transaction: the transitions that transaction wrote on the tasks it can have touched (the marks'
   * tasks, their ancestors and children, the tasks of steps `owner` holds) are returned, grouped by
   * transaction (`xid`), in id order. Another lookup of the same transaction may return other rows of
   * it: the caller publishes each transition once.
   * The only place that reads transitions back for publication: it follows how they are stored.
   */
  async committedBy(owner: string, marks: InDoubtMark[]): Promise<{ xid: string; rows: TransitionRow[] }[]> {
    if (marks.length === 0) return [];
    const s = this.db.s;
    const rows = await this.db.read<{ xid: string; row: Record<string, unknown> }>(
      `WITH RECURSIVE m AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS m(step_id bigint, task_id bigint, attempt int, after_id bigint, claimed boolean)
       ), found AS (
         SELECT (SELECT st.xmin::text FROM ${s}.workflow_step_transitions st
                  WHERE st.task_id = m.task_id AND st.step_id = m.step_id AND st.id > m.after_id AND st.actor = $1
                    AND CASE WHEN m.claimed THEN st.to_state = 'in_progress' AND st.from_state IS DISTINCT FROM 'waiting'
                             ELSE st.from_state = 'in_progress' AND st.attempt = m.attempt END
                  ORDER BY st.id DESC LIMIT 1) AS xid, m.after_id
           FROM m
       ), x AS (
         SELECT xid, min(after_id) AS after_id FROM found WHERE xid IS NOT NULL GROUP BY xid
       ), up(id) AS (
         SELECT DISTINCT m.task_id FROM m
         UNION
         SELECT y.parent_task_id FROM up JOIN ${s}.tasks y ON y.id = up.id WHERE y.parent_task_id IS NOT NULL
       ), near AS (
         -- The tasks such a statement can have written to, so that their trails are read by key (the
         -- transitions are indexed by task): the marks' own, their ancestors (a child settling its
         -- parent's wait), their children (started by a wait) and the tasks of the steps this worker
         -- holds (claimed in the same statement).
         SELECT id FROM up
         UNION SELECT c.id FROM ${s}.tasks c WHERE c.parent_task_id IN (SELECT task_id FROM m)
         UNION SELECT w.task_id FROM ${s}.workflow_steps w WHERE w.state = 'in_progress' AND w.lease_owner = $1
       ), ev AS (
         SELECT tr.xid, ROW(tr.kind, tr.id, tr.task_id, t.name, t.namespace, t.version, tr.step_id, tr.step_name, tr.from_state,
                    tr.to_state, tr.attempt, tr.actor, tr.reason, tr.error, tr.next_retry_at, tr.duration_ms, tr.created_at, t.created_at,
                    t.trace_context)::${s}.transition_event AS e
           FROM near n JOIN ${s}.transitions tr ON tr.task_id = n.id JOIN ${s}.tasks t ON t.id = tr.task_id
          WHERE tr.id > (SELECT min(after_id) FROM x) AND tr.xid IN (SELECT xid FROM x)
       )
       SELECT xid, ${transitionJson('(ev.e)')} AS row FROM ev ORDER BY (ev.e).transition_id`,
      [owner, JSON.stringify(marks.map((m) => ({ step_id: m.stepId, task_id: m.taskId, attempt: m.attempt ?? null, after_id: m.afterId, claimed: m.claimed })))],
    );
    const groups = new Map<string, TransitionRow[]>();
    for (const r of rows) {
      const g = groups.get(r.xid) ?? [];
      g.push(transitionFromJson(r.row));
      groups.set(r.xid, g);
    }
    return [...groups].map(([xid, rs]) => ({ xid, rows: rs }));
  }

  /** Fails up to `limit` attempts whose worker stopped renewing its lease. */
  expire(limit: number): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow>(`SELECT * FROM ${this.db.s}.expire_leases($1)`, [limit]);
  }
}
