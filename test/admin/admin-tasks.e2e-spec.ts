import { TaskValidationError } from 'nestjs-tasker';
import { ValidatedOrderWorkflow, VersionedV1, VersionedV2 } from '../fixtures/definitions.workflows';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { AdminApp, ALICE, canonical, expectError, field, startAdminApp, waitForTaskState } from '../support/admin-app';
import { dropSchema, uniqueSchema } from '../support/database';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** POST /tasker/tasks over HTTP: creation, defaults, idempotency, delayed start, and every way a request can be refused. */
describe('admin API: creating tasks', () => {
  const schema = uniqueSchema('adm_create');
  let a: AdminApp;

  beforeAll(async () => {
    a = await startAdminApp(schema, [LinearWorkflow, ValidatedOrderWorkflow, VersionedV1, VersionedV2]);
  });
  afterAll(async () => {
    await a?.close();
    await dropSchema(schema);
  });

  const linear = (extra: Record<string, unknown> = {}) => ({ name: 'linear', namespace: 'scenarios', context: { x: 6 }, ...extra });

  it('creates a task (201), the caller as initiator, and it runs to completion', async () => {
    const res = await a.post('/tasker/tasks', linear({ tags: ['vip', 'eu'], reason: 'new order', sourceSystem: 'shop' }));
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[1-9]\d*$/),
      name: 'linear',
      namespace: 'scenarios',
      version: '1.0.0',
      state: 'pending',
      context: { x: 6 },
      tags: ['vip', 'eu'],
      initiator: 'alice',
      sourceSystem: 'shop',
      reason: 'new order',
      runAt: null,
      priority: 0,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
      completedAt: null,
    });
    const done = await waitForTaskState(a, res.body.id, 'complete');
    expect(done.steps.map((s: { name: string; results: unknown }) => [s.name, s.results])).toEqual([
      ['step_1', 36],
      ['step_2', 46],
      ['step_3', 138],
      ['step_4', 69],
    ]);
    expect(done.completedAt).toMatch(ISO);
  });

  it('keeps an explicit initiator and nested context as sent', async () => {
    const context = { x: 2, order: { lines: [{ sku: 'a', qty: 1 }], note: null } };
    const res = await a.post('/tasker/tasks', linear({ context, initiator: 'checkout-service' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ initiator: 'checkout-service', context });
    // The initiator is business data the caller chooses; the audit actor is always the key's name.
    const trail = await a.get(`/tasker/tasks/${res.body.id}/audit`);
    expect(trail.body[0]).toMatchObject({ stepName: null, from: null, to: 'pending', actor: 'alice' });
  });

  it('stores a context exactly as sent, keys named like Object.prototype members (__proto__, constructor, toString...) included, at any depth', async () => {
    // Raw JSON text: a JSON.stringify of an object literal could not even hold an own "__proto__" key.
    const context = '{"x":6,"__proto__":{"polluted":1},"constructor":{"name":"c"},"toString":"t","valueOf":1,"hasOwnProperty":false,"a":{"b":{"__proto__":[1],"toLocaleString":"l","__defineGetter__":0}}}';
    const res = await a.http().post('/tasker/tasks').set('Authorization', `Bearer ${ALICE.secret}`).set('Content-Type', 'application/json')
      .send(`{"name":"linear","namespace":"scenarios","context":${context}}`);
    expect(res.status).toBe(201);
    expect(canonical(JSON.parse(res.text).context)).toEqual(canonical(JSON.parse(context)));
    const got = await a.get(`/tasker/tasks/${res.body.id}`);
    expect(canonical(JSON.parse(got.text).context)).toEqual(canonical(JSON.parse(context)));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('400 naming the field for a top-level body field or query parameter named like an Object.prototype member', async () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
      const body = `{"name":"linear","namespace":"scenarios","${key}":{"x":1}}`;
      const res = await a.http().post('/tasker/tasks').set('Authorization', `Bearer ${ALICE.secret}`).set('Content-Type', 'application/json').send(body);
      expectError(res, 400, `Invalid request: property ${key} should not exist`, [field(key, `property ${key} should not exist`)]);
      expectError(await a.get(`/tasker/tasks?${key}=1`), 400, `Invalid request: property ${key} should not exist`, [field(key, `property ${key} should not exist`)]);
    }
  });

  it('returns the existing task for a known idempotencyKey, without creating another', async () => {
    const first = await a.post('/tasker/tasks', linear({ idempotencyKey: 'order-42' }));
    const again = await a.post('/tasker/tasks', linear({ idempotencyKey: 'order-42', context: { x: 7 } }));
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toMatchObject({ id: first.body.id, idempotencyKey: 'order-42', context: { x: 6 } });
    const all = await a.get('/tasker/tasks?namespace=scenarios&name=linear&limit=500');
    expect(all.body.items.filter((t: { idempotencyKey?: string }) => t.idempotencyKey === 'order-42')).toHaveLength(1);
  });

  it('delays the start until runAt; the detail says why the step does not run', async () => {
    const res = await a.post('/tasker/tasks', linear({ runAt: '2099-01-01T00:00:00Z' }));
    expect(res.status).toBe(201);
    expect(res.body.runAt).toBe('2099-01-01T00:00:00.000Z');
    const detail = await a.get(`/tasker/tasks/${res.body.id}`);
    expect(detail.body.state).toBe('pending');
    expect(detail.body.steps[0]).toMatchObject({
      name: 'step_1',
      state: 'pending',
      attempts: 0,
      readiness: { ready: false, reason: 'not_before_run_at', availableAt: '2099-01-01T00:00:00.000Z' },
    });
  });

  it('runAt: 1970 to year 9999 (UTC) is stored to the millisecond; outside them a 400 over HTTP and a TaskValidationError in the service, never a driver error', async () => {
    for (const runAt of ['1970-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      const res = await a.post('/tasker/tasks', linear({ runAt }));
      expect([res.status, res.body.runAt]).toEqual([201, runAt]);
      expect((await a.get(`/tasker/tasks/${res.body.id}`)).body.runAt).toBe(runAt);
    }
    const range = 'must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z (UTC)';
    // A valid ISO date whose UTC time is in year 10000, and one before year 1.
    for (const runAt of ['9999-12-31T23:59:59-14:00', '1970-01-01T00:00:00+00:01']) {
      expectError(await a.post('/tasker/tasks', linear({ runAt })), 400, `Invalid task request: runAt ${range}`, [field('runAt', range)]);
    }
    for (const runAt of [new Date('+010000-01-01T00:00:00Z'), new Date('-005000-01-01T00:00:00Z'), new Date(8.64e15)]) {
      const error = await a.tasker.createTask({ ...linear(), runAt }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskValidationError);
      expect((error as TaskValidationError).errors).toEqual([field('runAt', range)]);
    }
  });

  it('takes a priority and a concurrency key; 400 for a priority that is not an integer from -100 to 100', async () => {
    const res = await a.post('/tasker/tasks', linear({ priority: -7, concurrencyKey: 'tenant-9', runAt: '2099-01-01T00:00:00Z' }));
    expect([res.status, res.body.priority]).toEqual([201, -7]);
    expect((await a.get(`/tasker/tasks/${res.body.id}`)).body.priority).toBe(-7);
    for (const priority of [101, -101, 1.5, '5']) {
      const bad = await a.post('/tasker/tasks', linear({ priority }));
      expect([bad.status, bad.body.details?.map((d: { field: string }) => d.field)]).toEqual([400, ['priority']]);
    }
    const longKey = await a.post('/tasker/tasks', linear({ concurrencyKey: 'k'.repeat(256) }));
    expect([longKey.status, longKey.body.details?.map((d: { field: string }) => d.field)]).toEqual([400, ['concurrencyKey']]);
  });

  it('picks the highest registered version unless one is asked for', async () => {
    const latest = await a.post('/tasker/tasks', { name: 'versioned', namespace: 'defs' });
    const older = await a.post('/tasker/tasks', { name: 'versioned', namespace: 'defs', version: '1.9.0' });
    expect([latest.status, latest.body.version]).toEqual([201, '1.10.0']);
    expect([older.status, older.body.version]).toEqual([201, '1.9.0']);
  });

  it('404 for a task type no process registered, or an unknown version', async () => {
    expectError(
      await a.post('/tasker/tasks', { name: 'nothing_here' }),
      404,
      'No handler is registered for task "default/nothing_here". Registered task types: defs/validated_order, defs/versioned, scenarios/linear. Register a @TaskHandler provider with that name in a process that uses this database.',
    );
    expectError(
      await a.post('/tasker/tasks', linear({ version: '9.9.9' })),
      404,
      'No handler is registered for task "scenarios/linear" version 9.9.9. Registered task types: defs/validated_order, defs/versioned, scenarios/linear. Register a @TaskHandler provider with that name in a process that uses this database.',
    );
  });

  it('400 listing every bad field at once, unknown fields included', async () => {
    const res = await a.post('/tasker/tasks', {
      name: 'bad name!',
      context: 'not an object',
      tags: [1, ''],
      runAt: 'tomorrow',
      initiator: 42,
      colour: 'blue',
    });
    const nameRule = 'name must be 1-128 letters, digits, "_", ".", ":" or "-"';
    expectError(res, 400, /^Invalid request: /, [
      field('colour', 'property colour should not exist'),
      field('name', nameRule),
      field('context', 'context must be an object'),
      field('initiator', 'initiator must be shorter than or equal to 1000 characters', 'initiator must be a string'),
      field(
        'tags',
        'each value in tags must be shorter than or equal to 100 characters',
        'each value in tags must be longer than or equal to 1 characters',
        'each value in tags must be a string',
      ),
      field('runAt', 'runAt must be a valid ISO 8601 date string'),
    ]);
    for (const f of ['colour', 'name', 'context', 'initiator', 'tags', 'runAt']) expect(res.body.message).toContain(f);
  });

  it('400 for a missing body, an empty object, an array or a body that is not JSON', async () => {
    const nameMissing = [field('name', 'name must be 1-128 letters, digits, "_", ".", ":" or "-"', 'name must be a string')];
    expectError(await a.post('/tasker/tasks'), 400, /name must be a string/, nameMissing);
    expectError(await a.post('/tasker/tasks', {}), 400, /name must be a string/, nameMissing);
    expectError(await a.post('/tasker/tasks', [linear()]), 400, /property 0 should not exist/, [
      field('0', 'property 0 should not exist'),
      ...nameMissing,
    ]);
    const text = await a.http().post('/tasker/tasks').set('Authorization', `Bearer ${ALICE.secret}`).set('Content-Type', 'text/plain').send('linear');
    expectError(text, 400, /name must be a string/, nameMissing);
  });

  it('400 for malformed JSON, without echoing the body back', async () => {
    const res = await a
      .http()
      .post('/tasker/tasks')
      .set('Authorization', `Bearer ${ALICE.secret}`)
      .set('Content-Type', 'application/json')
      .send('{"name": "linear", "context": {"card": 4111111111111111');
    expectError(res, 400, 'Request body is not valid JSON.');
    expect(res.text).not.toContain('4111');
  });

  it('400 for each size limit: tags, tag length, texts, idempotency key, names', async () => {
    const cases: [Record<string, unknown>, ReturnType<typeof field>][] = [
      [linear({ tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }), field('tags', 'tags must contain no more than 50 elements')],
      [linear({ tags: ['x'.repeat(101)] }), field('tags', 'each value in tags must be shorter than or equal to 100 characters')],
      [linear({ reason: 'r'.repeat(1001) }), field('reason', 'reason must be shorter than or equal to 1000 characters')],
      [linear({ sourceSystem: 's'.repeat(1001) }), field('sourceSystem', 'sourceSystem must be shorter than or equal to 1000 characters')],
      [linear({ initiator: 'i'.repeat(1001) }), field('initiator', 'initiator must be shorter than or equal to 1000 characters')],
      [linear({ idempotencyKey: 'k'.repeat(256) }), field('idempotencyKey', 'idempotencyKey must be shorter than or equal to 255 characters')],
      [linear({ idempotencyKey: '' }), field('idempotencyKey', 'idempotencyKey must be longer than or equal to 1 characters')],
      [linear({ name: 'n'.repeat(129) }), field('name', 'name must be 1-128 letters, digits, "_", ".", ":" or "-"')],
      [linear({ namespace: 'has space' }), field('namespace', 'namespace must be 1-128 letters, digits, "_", ".", ":" or "-"')],
    ];
    for (const [body, expected] of cases) {
      expectError(await a.post('/tasker/tasks', body), 400, `Invalid request: ${expected.messages.join(', ')}`, [expected]);
    }
    // At the limits, the same requests are accepted.
    const ok = await a.post('/tasker/tasks', linear({ tags: Array.from({ length: 50 }, () => 'x'.repeat(100)), reason: 'r'.repeat(1000), idempotencyKey: 'k'.repeat(255) }));
    expect(ok.status).toBe(201);
  });

  it('413 for a body over 1 MB; a large body under it is accepted', async () => {
    const big = await a.post('/tasker/tasks', linear({ context: { x: 1, blob: 'a'.repeat(1024 * 1024) } }));
    expectError(big, 413, 'Request body is larger than the 1048576 bytes allowed.');
    const large = await a.post('/tasker/tasks', linear({ context: { x: 1, blob: 'a'.repeat(900 * 1024) } }));
    expect(large.status).toBe(201);
  });

  it('400, never a 500, for deeply nested JSON (the service limit, then the parser guard)', async () => {
    const nest = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const send = (json: string) =>
      a.http().post('/tasker/tasks').set('Authorization', `Bearer ${ALICE.secret}`).set('Content-Type', 'application/json').send(json);
    expectError(await send(`{"name":"linear","namespace":"scenarios","context":${nest(70)}}`), 400, 'Invalid task request: context must not nest deeper than 64 levels', [
      field('context', 'must not nest deeper than 64 levels'),
    ]);
    for (const depth of [200, 5_000, 50_000]) {
      expectError(await send(`{"name":"linear","namespace":"scenarios","context":${nest(depth)}}`), 400, 'Invalid request: body must not nest deeper than 100 levels', [
        field('body', 'must not nest deeper than 100 levels'),
      ]);
    }
  });

  it('400 for NUL characters, which Postgres cannot store', async () => {
    expectError(await a.post('/tasker/tasks', linear({ context: { x: 'a\u0000b' } })), 400, 'Invalid task request: context must not contain NUL characters (\\u0000)', [
      field('context', 'must not contain NUL characters (\\u0000)'),
    ]);
    expectError(await a.post('/tasker/tasks', linear({ reason: 'a\u0000b' })), 400, 'Invalid task request: reason must not contain NUL characters', [
      field('reason', 'must not contain NUL characters'),
    ]);
  });

  it("400 with one entry per field of the handler's context DTO", async () => {
    const res = await a.post('/tasker/tasks', {
      name: 'validated_order',
      namespace: 'defs',
      context: { orderId: 5, quantity: 0, email: 'not-an-email', address: { city: 'a' } },
    });
    expectError(res, 400, /^Invalid context for task defs\/validated_order@1\.0\.0: /, [
      field('context.orderId', 'orderId must be a string'),
      field('context.quantity', 'quantity must not be less than 1'),
      field('context.email', 'email must be an email'),
      field('context.address.city', 'city must be longer than or equal to 2 characters'),
    ]);
    const ok = await a.post('/tasker/tasks', { name: 'validated_order', namespace: 'defs', context: { orderId: 'A-1', quantity: 2 } });
    expect(ok.status).toBe(201);
    expect((await waitForTaskState(a, ok.body.id, 'complete')).steps[0].results).toEqual({ orderId: 'A-1', reserved: 2 });
  });
});
