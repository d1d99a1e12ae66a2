// Internals: runs claim_steps and completeAndClaimSql itself and reads the plans of the statements inside them with auto_explain, to fail on whole-table scans.
import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import { completeAndClaimSql } from '../../libs/tasker/src/persistence/step.repository';
import { explainNestedStatements, wholeIndexScans, wholeTableScans } from '../support/plans';
import { engineSchema } from '../support/engine-schema';

@TaskHandler({ name: 'line', namespace: 'plans', version: '1' })
class LineWorkflow {
  @Step()
  first() {
    return 1;
  }

  @Step()
  @DependsOn('first')
  second() {
    return 2;
  }

  @Step()
  @DependsOn('second')
  third() {
    return 3;
  }
}

/** The lease index: the hot path reaches rows by key, never through it. */
const LEASE_INDEX = /workflow_steps_lease_idx/;

/**
 * The statements a worker runs for every step must reach rows through their keys, whatever the
 * statistics say: on a young schema (never analyzed), generic plans cached in complete_steps and
 * claim_steps can scan whole tables, and every hand-off then gets slower as history grows. The
 * plans of the statements inside the functions are read with auto_explain, sent back as notices.
 */
describe('the hot path’s plans', () => {
  const db = engineSchema('plans', [LineWorkflow],
    // Enough rows that a table scan looks cheaper than ten key lookups to a planner without statistics.
    (api) => api.tasker.createTasks(Array.from({ length: 300 }, () => ({ name: 'line', namespace: 'plans', context: {} }))),
  );
  const { s } = db;

  it('claims and completions use keys, never a scan of a whole table, of a whole index or of the lease index', async () => {
    const types = (await db.client.query<{ id: number }>(`SELECT id FROM ${s}.named_tasks WHERE name = 'line'`)).rows.map((r) => r.id);
    const plans = await explainNestedStatements(db.client);

    let [claim] = (await db.client.query(`SELECT (c.claim).* FROM ${s}.claim_steps('plans-test', $1::int[], 1, 30000, 0, 10000) c WHERE NOT (c.claim IS NULL)`, [types])).rows;
    for (let handOff = 0; handOff < 6; handOff++) {
      // Both completions: complete_steps (a batch, here of one) and complete_one (a single success).
      const one = handOff % 2 === 1;
      const completion = one ? [claim.step_id, claim.lease_token, '1'] : [[claim.step_id], [claim.lease_token], ['1']];
      const rows = (await db.client.query(completeAndClaimSql(s, one ? 'one' : 'many'), [...completion, 'plans-test', types, 1, 30_000, 0, 10_000])).rows;
      expect(rows.filter((r) => r.part === 0).length).toBeGreaterThan(0); // the completion was stored
      claim = rows.find((r) => r.part === 2)?.row;
      expect(claim).toBeDefined();
    }

    const inFunctions = plans.filter((p) => /Update on workflow_steps/.test(p) || /Update on tasks/.test(p) || /workflow_steps_ready_idx/.test(p));
    expect(inFunctions.length).toBeGreaterThan(5); // the nested statements were explained
    expect(wholeTableScans(plans)).toEqual([]);
    expect(plans.filter((p) => LEASE_INDEX.test(p))).toEqual([]);
    expect(wholeIndexScans(plans)).toEqual([]);
  });
});
