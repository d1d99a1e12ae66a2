import fc from 'fast-check';
import { TaskerError, TaskerService } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { fuzzParams, hostileString, hostileValue, maybe } from '../support/hostile';
import { startApp, TestApp } from '../support/tasker-app';
import { LinearWorkflow } from '../fixtures/linear.workflow';

/**
 * TaskerService given hostile input (fast-check, fixed seed: FUZZ_SEED reproduces a run):
 * every call either succeeds or fails with a typed TaskerError, never anything else, and no
 * input reaches the database as SQL.
 */
describe('TaskerService under hostile input', () => {
  const schema = uniqueSchema('hostile_svc');
  let t: TestApp;
  let tasker: TaskerService;
  let existing: string;
  const created = new Set<string>();

  beforeAll(async () => {
    t = await startApp(schema, [LinearWorkflow]);
    tasker = t.tasker;
    existing = (await tasker.createTask({ name: 'linear', namespace: 'scenarios', context: { x: 2 } })).id;
    created.add(existing);
    await tasker.waitForTask(existing);
    // A canary next to Tasker's tables: an injected statement would drop or change it.
    await withClient((c) => c.query(`CREATE TABLE "${schema}".canary (v text); INSERT INTO "${schema}".canary VALUES ('alive')`));
  });
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
  });

  /** The call's outcome: 'ok', or the TaskerError's class; anything else fails the property with what was thrown. */
  async function outcome(call: () => Promise<unknown>): Promise<string> {
    try {
      const r = await call();
      for (const v of Array.isArray(r) ? r : [r]) if (v && typeof v === 'object' && 'id' in v) created.add(String((v as { id: string }).id));
      return 'ok';
    } catch (e) {
      if (e instanceof TaskerError) {
        // A clear error: a stable code and a message that says something.
        expect(typeof e.code).toBe('string');
        expect(e.message.length).toBeGreaterThan(0);
        return e.constructor.name;
      }
      throw new Error(`not a TaskerError: ${(e as Error)?.stack ?? String(e)}`, { cause: e });
    }
  }

  const ids = () => fc.oneof(fc.constant('1'), fc.constant('999999999'), fc.constant('9223372036854775807'), hostileValue());
  const request = () =>
    fc.record(
      {
        name: maybe(fc.constant('linear')),
        namespace: maybe(fc.constant('scenarios')),
        version: maybe(fc.constant('1.0.0')),
        context: fc.oneof(fc.constant({ x: 3 }), hostileValue(), fc.dictionary(hostileString(), hostileValue(), { maxKeys: 3 })),
        initiator: maybe(fc.string()),
        sourceSystem: maybe(fc.string()),
        reason: maybe(fc.string()),
        tags: fc.oneof(fc.array(hostileString(), { maxLength: 4 }), hostileValue()),
        idempotencyKey: maybe(fc.uuid()),
        runAt: maybe(fc.date({ min: new Date('2000-01-01'), max: new Date('2001-01-01') })),
        [`unknown_${'field'}`]: hostileValue(),
      },
      { requiredKeys: [] },
    );

  it('createTask and createTasks: a task or a TaskerError, whatever the request', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(request(), hostileValue()), async (req) => {
        await outcome(() => tasker.createTask(req as never));
      }),
      fuzzParams(),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(request(), { maxLength: 3 }), hostileValue()), hostileValue(), async (reqs, opts) => {
        await outcome(() => tasker.createTasks(reqs as never, opts as never));
      }),
      fuzzParams(60),
    );
  });

  it('getTask, getAuditTrail and waitForTask: the task or a TaskerError, whatever the id', async () => {
    await fc.assert(
      fc.asyncProperty(ids(), fc.oneof(fc.constant({ timeoutMs: 10 }), hostileValue()), async (id, opts) => {
        await outcome(() => tasker.getTask(id as never));
        await outcome(() => tasker.getAuditTrail(id as never));
        // Whatever the options, a wait on an unknown or finished task answers at once.
        const known = typeof id === 'string' && created.has(id);
        if (!known || id === existing) await outcome(() => tasker.waitForTask(id as never, opts as never));
      }),
      fuzzParams(),
    );
  });

  it('listTasks: a page or a TaskerError, with SQL metacharacters in every filter', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record(
            {
              state: maybe(fc.constantFrom('complete', 'error')),
              namespace: hostileValue(),
              name: hostileValue(),
              tag: hostileValue(),
              limit: maybe(fc.integer({ min: 1, max: 500 })),
              cursor: hostileValue(),
            },
            { requiredKeys: [] },
          ),
          hostileValue(),
        ),
        async (q) => {
          await outcome(() => tasker.listTasks(q as never));
        },
      ),
      fuzzParams(),
    );
  });

  it('retryTask, cancelTask and resolveStep: the task or a TaskerError, whatever the id, step, actor, reason and results', async () => {
    const by = () => fc.oneof(fc.record({ actor: maybe(fc.string()), reason: maybe(fc.string()) }, { requiredKeys: [] }), hostileValue());
    await fc.assert(
      fc.asyncProperty(ids(), maybe(fc.constantFrom('step_1', 'step_4')), by(), hostileValue(), async (id, step, actor, results) => {
        await outcome(() => tasker.retryTask(id as never, actor as never));
        await outcome(() => tasker.resolveStep(id as never, step as never, { ...(actor as object), results } as never));
        await outcome(() => tasker.resolveStep(id as never, step as never, actor as never));
      }),
      fuzzParams(),
    );
    // Cancelling last: the fixed ids above stay usable for the other actions.
    await fc.assert(
      fc.asyncProperty(ids(), by(), async (id, actor) => {
        await outcome(() => tasker.cancelTask(id as never, actor as never));
      }),
      fuzzParams(60),
    );
  });

  it('listTaskTypes: the types or a TaskerError, whatever the filter', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.record({ namespace: hostileValue(), name: hostileValue() }, { requiredKeys: [] }), hostileValue()), async (f) => {
        await outcome(() => tasker.listTaskTypes(f as never));
      }),
      fuzzParams(),
    );
  });

  it('nothing reached the database as SQL: the canary is intact and only the reported tasks exist', async () => {
    await withClient(async (c) => {
      expect((await c.query(`SELECT v FROM "${schema}".canary`)).rows).toEqual([{ v: 'alive' }]);
      const { rows } = await c.query(`SELECT id::text FROM "${schema}".tasks ORDER BY id`);
      expect(new Set(rows.map((r) => r.id))).toEqual(created);
      // Every stored text is what a caller could have sent: no lone surrogate was silently replaced.
      const { rows: replaced } = await c.query(
        `SELECT id FROM "${schema}".tasks WHERE concat(initiator, source_system, reason, idempotency_key, context::text, array_to_string(tags, ',')) LIKE '%' || chr(65533) || '%'`,
      );
      expect(replaced).toEqual([]);
    });
  });
});
