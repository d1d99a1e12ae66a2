// Internals: calls the engine's SQL functions itself (complete_one and complete_steps through completeAndClaimSql, claim_steps, fail_step) and LISTENs on wakeChannel, to show a single success writes what a batch writes.
import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import { Client } from 'pg';
import { wakeChannel } from '../../libs/tasker/src/persistence/naming';
import { completeAndClaimSql } from '../../libs/tasker/src/persistence/step.repository';
import { databaseUrl } from '../support/database';
import { engineSchema } from '../support/engine-schema';

@TaskHandler({ name: 'pair', namespace: 'one', version: '1' })
class PairWorkflow {
  @Step()
  a() {}

  @Step()
  @DependsOn('a')
  b() {}
}

@TaskHandler({ name: 'join', namespace: 'one', version: '1' })
class JoinWorkflow {
  @Step({ retryable: false })
  a() {}

  @Step()
  b() {}

  @Step()
  @DependsOn('a', 'b')
  c() {}
}

@TaskHandler({ name: 'fork', namespace: 'one', version: '1' })
class ForkWorkflow {
  @Step()
  root() {}

  @Step()
  @DependsOn('root')
  left() {}

  @Step()
  @DependsOn('root')
  right() {}
}

const OWNER = 'worker:one-test';

interface Claimed {
  step_id: string;
  step_name: string;
  lease_token: string;
}

type Completion = 'one' | 'many';

/**
 * complete_one (a single success, scalar statements) stands in for complete_steps (a batch) when a
 * worker stores one success: both must write the same transitions, in the same order, and leave
 * the task and its steps in the same states. Each case runs on a fresh task with each function and
 * is checked against what it must produce, not only against the other.
 */
describe('complete_one and complete_steps', () => {
  const db = engineSchema('one', [PairWorkflow, JoinWorkflow, ForkWorkflow]);
  const { schema, s } = db;

  const created: string[] = [];
  const create = async (name: string) => {
    const { id } = await db.api.tasker.createTask({ name, namespace: 'one', context: {} });
    created.push(id);
    return id;
  };

  /** A case's leftovers (a dependent made ready, a step in progress) must not be claimed by the next run. */
  async function retire(): Promise<void> {
    for (const id of created.splice(0)) {
      await db.client.query(`UPDATE ${s}.workflow_steps SET state = 'cancelled' WHERE task_id = $1 AND state IN ('pending', 'error', 'in_progress')`, [id]);
    }
  }
  afterEach(retire);

  async function claimOf(taskId: string, limit = 1): Promise<Claimed[]> {
    // Only this task's steps: other cases' tasks are left alone.
    const rows = (
      await db.client.query<Claimed & { task_id: string }>(
        `SELECT (c.claim).step_id::text, (c.claim).step_name, (c.claim).lease_token, (c.claim).task_id::text
           FROM ${s}.claim_steps($1, ARRAY(SELECT named_task_id FROM ${s}.tasks WHERE id = $2), $3, 30000, 0, 10000) c WHERE NOT (c.claim IS NULL)`,
        [OWNER, taskId, limit],
      )
    ).rows;
    expect(rows.every((r) => r.task_id === taskId)).toBe(true);
    return rows;
  }

  async function complete(how: Completion, step: Claimed, token = step.lease_token): Promise<string[]> {
    const sql =
      how === 'one'
        ? `SELECT * FROM ${s}.complete_one($1, $2::uuid, $3::jsonb)`
        : `SELECT * FROM ${s}.complete_steps(ARRAY[$1::bigint], ARRAY[$2::uuid], ARRAY[$3::jsonb])`;
    const rows = (await db.client.query(sql, [step.step_id, token, '{"ok":true}'])).rows;
    return rows.map((r) => [r.kind, r.step_name ?? '-', `${r.from_state}→${r.to_state}`, r.actor === OWNER ? 'owner' : String(r.actor)].join(' '));
  }

  async function states(taskId: string): Promise<string> {
    const task = (await db.client.query(`SELECT state, steps_done, steps_failed FROM ${s}.tasks WHERE id = $1`, [taskId])).rows[0];
    const steps = (await db.client.query(`SELECT name, state, parents_done FROM ${s}.workflow_steps WHERE task_id = $1 ORDER BY name`, [taskId])).rows;
    return [`task ${task.state} done=${task.steps_done} failed=${task.steps_failed}`, ...steps.map((w) => `${w.name} ${w.state} parents_done=${w.parents_done}`)].join('; ');
  }

  const cases: [string, (how: Completion) => Promise<{ events: string[]; after: string }>, string[], string][] = [
    [
      'a step with a dependent, the task already started',
      async (how) => {
        const id = await create('pair');
        const [a] = await claimOf(id);
        return { events: await complete(how, a), after: await states(id) };
      },
      ['step a in_progress→complete owner'],
      'task in_progress done=1 failed=0; a complete parents_done=0; b pending parents_done=1',
    ],
    [
      'the last step: the task completes',
      async (how) => {
        const id = await create('pair');
        await complete(how, (await claimOf(id))[0]);
        const [b] = await claimOf(id);
        return { events: await complete(how, b), after: await states(id) };
      },
      ['step b in_progress→complete owner', 'task - in_progress→complete null'],
      'task complete done=2 failed=0; a complete parents_done=0; b complete parents_done=1',
    ],
    [
      'the task still pending (its claim could not lock it): the outcome starts it first',
      async (how) => {
        const id = await create('pair');
        const holder = new Client({ connectionString: databaseUrl() });
        await holder.connect();
        try {
          await holder.query('BEGIN');
          await holder.query(`SELECT 1 FROM ${s}.tasks WHERE id = $1 FOR UPDATE`, [id]);
          const [a] = await claimOf(id);
          await holder.query('COMMIT');
          return { events: await complete(how, a), after: await states(id) };
        } finally {
          await holder.end();
        }
      },
      ['task - pending→in_progress owner', 'step a in_progress→complete owner'],
      'task in_progress done=1 failed=0; a complete parents_done=0; b pending parents_done=1',
    ],
    [
      'a sibling failed for good: the last running step completes and the task fails',
      async (how) => {
        const id = await create('join');
        const claimed = await claimOf(id, 2);
        const a = claimed.find((c) => c.step_name === 'a')!;
        const b = claimed.find((c) => c.step_name === 'b')!;
        await db.client.query(`SELECT * FROM ${s}.fail_step($1, $2::uuid, $3::jsonb, NULL)`, [a.step_id, a.lease_token, '{"message":"no"}']);
        return { events: await complete(how, b), after: await states(id) };
      },
      ['step b in_progress→complete owner', 'task - in_progress→error null'],
      'task error done=1 failed=1; a error parents_done=0; b complete parents_done=0; c pending parents_done=1',
    ],
    [
      'a lease token that is no longer the step’s: nothing is stored',
      async (how) => {
        const id = await create('pair');
        const [a] = await claimOf(id);
        return { events: await complete(how, a, '00000000-0000-4000-8000-000000000000'), after: await states(id) };
      },
      [],
      'task in_progress done=0 failed=0; a in_progress parents_done=0; b pending parents_done=0',
    ],
  ];

  it.each(cases)('%s', async (_name, run, events, after) => {
    const one = await run('one');
    await retire();
    const many = await run('many');
    expect(one.events).toEqual(events);
    expect(one.after).toBe(after);
    expect(many).toEqual(one);
  });

  /**
   * A task's start by its first claim and its completion by its last success are stored in the
   * rows of the step transitions that caused them, with ids of their own: the trail (getAuditTrail,
   * the transitions view) and the events must be what they were when each move had its own row.
   */
  describe('task moves stored with the step transitions that caused them', () => {
    const trail = async (id: string) =>
      (await db.api.tasker.getAuditTrail(id)).map((e) => [e.stepName ?? '-', `${e.from}→${e.to}`, e.actor === OWNER ? 'owner' : String(e.actor ?? null)].join(' '));
    const rowsOf = async (id: string) =>
      (
        await db.client.query(
          `SELECT (SELECT count(*) FROM ${s}.task_transitions WHERE task_id = $1)::int AS task_rows,
                  (SELECT count(*) FROM ${s}.workflow_step_transitions WHERE task_id = $1)::int AS step_rows`,
          [id],
        )
      ).rows[0];
    /** Claims up to `limit` ready steps of the tasks' types, in claim order, and only those tasks'. */
    const claimAll = async (ids: string[], limit: number) => {
      const rows = (
        await db.client.query<Claimed & { task_id: string; task_start_id: string | null; start_id: string }>(
          `SELECT (c.claim).step_id::text, (c.claim).step_name, (c.claim).lease_token, (c.claim).task_id::text,
                  (c.claim).task_start_id::text, (c.claim).start_id::text
             FROM ${s}.claim_steps($1, ARRAY(SELECT DISTINCT named_task_id FROM ${s}.tasks WHERE id = ANY ($2::bigint[])), $3, 30000, 0, 10000) c
            WHERE NOT (c.claim IS NULL)`,
          [OWNER, ids, limit],
        )
      ).rows;
      expect(rows.every((r) => ids.includes(r.task_id))).toBe(true);
      return rows;
    };
    const completeBatch = async (claimed: Claimed[]) =>
      (
        await db.client.query(`SELECT * FROM ${s}.complete_steps($1::bigint[], $2::uuid[], ARRAY(SELECT '{"ok":true}'::jsonb FROM unnest($1::bigint[])))`, [
          claimed.map((c) => c.step_id),
          claimed.map((c) => c.lease_token),
        ])
      ).rows as { kind: string; transition_id: string; task_id: string; step_name: string | null; to_state: string }[];
    const viewIds = async (ids: string[]) =>
      (await db.client.query(`SELECT kind, id::text, task_id::text, step_name, to_state FROM ${s}.transitions WHERE task_id = ANY ($1::bigint[]) ORDER BY id`, [ids])).rows;
    /** Transitions dated before one with a smaller id: none, the trail's order by id is its order in time. */
    const outOfTime = async () =>
      (
        await db.client.query(
          `SELECT id::text FROM (SELECT id, created_at, lag(created_at) OVER (ORDER BY id) AS before FROM ${s}.transitions) x WHERE created_at < before`,
        )
      ).rows;

    it('claims and completes two tasks in batches: each trail is whole, in order, and the events carry the stored ids', async () => {
      const ids = [await create('pair'), await create('pair')];
      const firsts = await claimAll(ids, 4);
      expect(firsts.map((c) => c.step_name)).toEqual(['a', 'a']);
      // Each claim row names its task's start, whose id precedes its attempt's.
      for (const c of firsts) expect(BigInt(c.task_start_id!)).toBeLessThan(BigInt(c.start_id));
      await completeBatch(firsts);
      const seconds = await claimAll(ids, 4);
      const events = await completeBatch(seconds);
      // Each task's completion follows its step's, with an id and time drawn with it.
      expect(events.map((e) => `${e.kind} ${e.step_name ?? '-'} ${e.to_state}`)).toEqual(['step b complete', 'task - complete', 'step b complete', 'task - complete']);
      expect(events.map((e) => e.task_id)).toEqual([ids[0], ids[0], ids[1], ids[1]]);
      // The events' ids are the trail's, in the same order.
      const stored = await viewIds(ids);
      expect(events.map((e) => e.transition_id)).toEqual(stored.slice(-4).map((r) => r.id));
      for (const id of ids) {
        expect(await trail(id)).toEqual([
          '- null→pending null',
          '- pending→in_progress owner',
          'a pending→in_progress owner',
          'a in_progress→complete owner',
          'b pending→in_progress owner',
          'b in_progress→complete owner',
          '- in_progress→complete null',
        ]);
        // Creation is the task's only row of its own; each attempt writes its two step rows.
        expect(await rowsOf(id)).toEqual({ task_rows: 1, step_rows: 4 });
        expect((await db.api.tasker.getTask(id)).state).toBe('complete');
      }
      expect(await outOfTime()).toEqual([]);
    });

    it('a claim of two steps of one task stores its start once; a single success completes it', async () => {
      const id = await create('join');
      const both = await claimAll([id], 2);
      expect(both.map((c) => c.step_name).sort()).toEqual(['a', 'b']);
      expect(both[0].task_start_id).not.toBeNull();
      expect(both[1].task_start_id).toBe(both[0].task_start_id);
      await completeBatch(both);
      const [c] = await claimAll([id], 1);
      expect(await complete('one', c)).toEqual(['step c in_progress→complete owner', 'task - in_progress→complete null']);
      const first = both[0].step_name;
      const second = both[1].step_name;
      expect(await trail(id)).toEqual([
        '- null→pending null',
        '- pending→in_progress owner',
        `${first} pending→in_progress owner`,
        `${second} pending→in_progress owner`,
        'a in_progress→complete owner',
        'b in_progress→complete owner',
        'c pending→in_progress owner',
        'c in_progress→complete owner',
        '- in_progress→complete null',
      ]);
      expect(await rowsOf(id)).toEqual({ task_rows: 1, step_rows: 6 });
      expect(await outOfTime()).toEqual([]);
    });
  });

  /**
   * The worker stores a single success and claims in one statement; it then wakes the other
   * workers only when a dependent is ready and it did not claim it (a chain's hand-offs used to
   * wake every listening worker for nothing). A marker NOTIFY sent after the statement commits
   * arrives after anything that commit sent: what came before it is all there is.
   */
  describe('a hand-off of one success', () => {
    let listener: Client;
    const heard: string[] = [];
    beforeAll(async () => {
      listener = new Client({ connectionString: databaseUrl() });
      await listener.connect();
      listener.on('notification', (m) => heard.push(m.payload ?? ''));
      await listener.query(`LISTEN "${wakeChannel(schema)}"`);
    });
    afterAll(() => listener?.end());

    async function handOff(name: string, claimLimit: number): Promise<{ claimed: number; heard: string[] }> {
      const id = await create(name);
      const [first] = await claimOf(id);
      heard.length = 0;
      const types = [(await db.client.query(`SELECT named_task_id FROM ${s}.tasks WHERE id = $1`, [id])).rows[0].named_task_id];
      const rows = (await db.client.query(completeAndClaimSql(s, 'one'), [first.step_id, first.lease_token, 'null', OWNER, types, claimLimit, 30_000, 0, 10_000])).rows;
      const marker = `marker-${id}`;
      const arrived = new Promise<void>((resolve) => listener.on('notification', (m) => m.payload === marker && resolve()));
      await db.client.query(`SELECT pg_notify($1, $2)`, [wakeChannel(schema), marker]);
      await arrived;
      return { claimed: rows.filter((r) => r.part === 2).length, heard: heard.filter((h) => h !== marker) };
    }

    it('wakes no one when it claimed the dependent itself (a chain)', async () => {
      expect(await handOff('pair', 5)).toEqual({ claimed: 1, heard: [] });
    });

    it('wakes the other workers when a ready dependent is left unclaimed', async () => {
      expect(await handOff('fork', 1)).toEqual({ claimed: 1, heard: [`ready:${OWNER}`] });
    });
  });
});
