import { HandlerNotFoundError, TaskerError, TaskerEvents, TaskValidationError } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { ShippingWorkflow, ValidatedOrderWorkflow, VersionedV1, VersionedV2 } from '../fixtures/definitions.workflows';

const WAIT = { timeoutMs: 20_000 };

async function rejection(p: Promise<unknown>): Promise<TaskerError> {
  try {
    await p;
  } catch (e) {
    return e as TaskerError;
  }
  throw new Error('expected the call to be rejected');
}

describe('task definitions in the database', () => {
  const schema = uniqueSchema('defs');
  const apps: TestApp[] = [];
  const start = async (...args: Parameters<typeof startApp>) => {
    const app = await startApp(...args);
    apps.push(app);
    return app;
  };
  const q = <T>(sql: string, params: unknown[] = []) => withClient(async (c) => (await c.query(sql, params)).rows as T[]);

  let worker: TestApp;
  beforeAll(async () => {
    worker = await start(schema, [ShippingWorkflow, ValidatedOrderWorkflow]);
  });
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close().catch(() => undefined);
    await dropSchema(schema);
  });

  describe('recorded at boot', () => {
    it('named_tasks holds the type with its stored definition', async () => {
      const rows = await q<{ namespace: string; name: string; version: string; description: string; definition: unknown }>(
        `SELECT ns.name AS namespace, nt.name, nt.version, nt.description, nt.definition
           FROM "${schema}".named_tasks nt JOIN "${schema}".namespaces ns ON ns.id = nt.namespace_id
          WHERE nt.name = 'shipping'`,
      );
      const backoff = { baseMs: 10, maxMs: 50, jitter: 0 };
      expect(rows).toEqual([
        {
          namespace: 'defs',
          name: 'shipping',
          version: '1.2.0',
          description: 'Ships an order',
          definition: {
            namespace: 'defs',
            name: 'shipping',
            version: '1.2.0',
            description: 'Ships an order',
            steps: [
              { name: 'pick', description: 'Pick the items', dependsOn: [], retryLimit: 5, retryable: true, timeoutMs: 1_000, backoff },
              { name: 'label', description: null, dependsOn: [], retryLimit: 3, retryable: true, timeoutMs: null, backoff: { ...backoff, baseMs: 7 } },
              { name: 'pack', description: null, dependsOn: ['pick'], retryLimit: 1, retryable: false, timeoutMs: null, backoff },
              { name: 'ship', description: null, dependsOn: ['pack', 'label'], retryLimit: 3, retryable: true, timeoutMs: null, backoff },
            ],
          },
        },
      ]);
    });

    it('named_steps holds each step with its options, in dependency order', async () => {
      const rows = await q(
        `SELECT st.name, st.position, st.description, st.retry_limit, st.retryable, st.timeout_ms, st.backoff, st.parents_total
           FROM "${schema}".named_steps st JOIN "${schema}".named_tasks nt ON nt.id = st.named_task_id
          WHERE nt.name = 'shipping' ORDER BY st.position`,
      );
      const backoff = { baseMs: 10, maxMs: 50, jitter: 0 };
      expect(rows).toEqual([
        { name: 'pick', position: 0, description: 'Pick the items', retry_limit: 5, retryable: true, timeout_ms: 1_000, backoff, parents_total: 0 },
        { name: 'label', position: 1, description: null, retry_limit: 3, retryable: true, timeout_ms: null, backoff: { ...backoff, baseMs: 7 }, parents_total: 0 },
        { name: 'pack', position: 2, description: null, retry_limit: 1, retryable: false, timeout_ms: null, backoff, parents_total: 1 },
        { name: 'ship', position: 3, description: null, retry_limit: 3, retryable: true, timeout_ms: null, backoff, parents_total: 2 },
      ]);
    });

    it('named_step_edges holds each dependency as an edge', async () => {
      const rows = await q<{ from: string; to: string }>(
        `SELECT f.name AS from, t.name AS to
           FROM "${schema}".named_step_edges e
           JOIN "${schema}".named_steps f ON f.id = e.from_named_step_id
           JOIN "${schema}".named_steps t ON t.id = e.to_named_step_id
           JOIN "${schema}".named_tasks nt ON nt.id = e.named_task_id
          WHERE nt.name = 'shipping' ORDER BY 1, 2`,
      );
      expect(rows).toEqual([
        { from: 'label', to: 'ship' },
        { from: 'pack', to: 'ship' },
        { from: 'pick', to: 'pack' },
      ]);
    });

    it('a second process with the same handler reuses the rows', async () => {
      const before = await q<{ id: number }>(`SELECT id FROM "${schema}".named_tasks WHERE name = 'shipping'`);
      const again = await start(schema, [ShippingWorkflow], { worker: { enabled: false } });
      await again.close();
      const after = await q<{ id: number }>(`SELECT id FROM "${schema}".named_tasks WHERE name = 'shipping'`);
      expect(after).toEqual(before);
      const [{ steps, edges }] = await q<{ steps: string; edges: string }>(
        `SELECT (SELECT count(*) FROM "${schema}".named_steps WHERE named_task_id = $1) AS steps,
                (SELECT count(*) FROM "${schema}".named_step_edges WHERE named_task_id = $1) AS edges`,
        [before[0].id],
      );
      expect([Number(steps), Number(edges)]).toEqual([4, 3]);
    });
  });

  describe('an API-only process', () => {
    it('creates a task of a type only another process has, and that process runs it', async () => {
      const api = await start(schema, [], { worker: { enabled: false } });
      const created = await api.tasker.createTask({ name: 'shipping', namespace: 'defs', context: { orderId: 'o-77' } });
      expect(created).toMatchObject({ name: 'shipping', namespace: 'defs', version: '1.2.0' });
      // Read back after commit: the worker may already have claimed its first step.
      expect(['pending', 'in_progress']).toContain(created.state);

      const done = await api.tasker.waitForTask(created.id, WAIT);
      expect(done.state).toBe('complete');
      expect(done.steps.map((s) => [s.name, s.state])).toEqual([
        ['pick', 'complete'],
        ['label', 'complete'],
        ['pack', 'complete'],
        ['ship', 'complete'],
      ]);
      expect(done.steps.find((s) => s.name === 'ship')!.results).toEqual({ shipped: 'o-77', label: 'label-1' });
      expect(done.steps.find((s) => s.name === 'pack')!.results).toEqual({ packedAfter: ['pick'] });

      // the steps ran in the worker process, never in the API-only one
      const apiEvents = api.events.filter((e) => e.taskId === created.id).map((e) => e.event);
      expect(apiEvents).toEqual([TaskerEvents.TASK_CREATED]);
      const workerStarts = worker.events.filter((e) => e.taskId === created.id && e.event === TaskerEvents.STEP_STARTED);
      expect(workerStarts.map((e) => ('stepName' in e ? e.stepName : '')).sort()).toEqual(['label', 'pack', 'pick', 'ship']);
    });
  });

  describe('unknown task types', () => {
    it('HandlerNotFoundError for a name nobody registered', async () => {
      const err = await rejection(worker.tasker.createTask({ name: 'nope', namespace: 'defs', context: {} }));
      expect(err).toBeInstanceOf(HandlerNotFoundError);
      expect(err.code).toBe('HANDLER_NOT_FOUND');
      expect(err.message).toBe(
        'No handler is registered for task "defs/nope". Registered task types: defs/shipping, defs/validated_order. Register a @TaskHandler provider with that name in a process that uses this database.',
      );
    });

    it('HandlerNotFoundError for a known name in another namespace (default namespace)', async () => {
      const err = await rejection(worker.tasker.createTask({ name: 'shipping', context: {} }));
      expect(err).toBeInstanceOf(HandlerNotFoundError);
      expect(err.message).toContain('No handler is registered for task "default/shipping". Did you mean "defs/shipping"? ');
    });

    it('HandlerNotFoundError for a near name suggests it, and lists the registered types when they are few', async () => {
      const err = await rejection(worker.tasker.createTask({ name: 'shiping', namespace: 'defs', context: {} }));
      expect(err).toBeInstanceOf(HandlerNotFoundError);
      expect((err as HandlerNotFoundError).suggestions).toEqual(['defs/shipping']);
      expect(err.message).toMatch(/^No handler is registered for task "defs\/shiping"\. Did you mean "defs\/shipping"\? Registered task types: [^.]*defs\/shipping[^.]*\. Register a @TaskHandler/);
    });

    it('HandlerNotFoundError for a version nobody registered', async () => {
      const err = await rejection(worker.tasker.createTask({ name: 'shipping', namespace: 'defs', version: '9.9.9', context: {} }));
      expect(err).toBeInstanceOf(HandlerNotFoundError);
      expect(err.message).toBe(
        'No handler is registered for task "defs/shipping" version 9.9.9. Registered task types: defs/shipping, defs/validated_order. Register a @TaskHandler provider with that name in a process that uses this database.',
      );
    });
  });

  describe('context DTO', () => {
    const countTasks = async () =>
      Number((await q<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".tasks WHERE name = 'validated_order'`))[0].n);

    it('refuses an invalid context with one entry per bad field, creating nothing', async () => {
      const before = await countTasks();
      const err = (await rejection(
        worker.tasker.createTask({
          name: 'validated_order',
          namespace: 'defs',
          context: { orderId: 42, quantity: 0, email: 'not-an-email', address: { city: 'X' } },
        }),
      )) as TaskValidationError;
      expect(err).toBeInstanceOf(TaskValidationError);
      expect(err.code).toBe('TASK_VALIDATION');
      const byField = Object.fromEntries(err.errors.map((e) => [e.field, [...e.messages].sort()]));
      expect(byField).toEqual({
        'context.orderId': ['orderId must be a string'],
        'context.quantity': ['quantity must not be less than 1'],
        'context.email': ['email must be an email'],
        'context.address.city': ['city must be longer than or equal to 2 characters'],
      });
      expect(err.message.startsWith('Invalid context for task defs/validated_order@1.0.0: ')).toBe(true);
      expect(err.message).toContain('context.quantity quantity must not be less than 1');
      expect(await countTasks()).toBe(before);
    });

    it('lists every failed constraint of a field, and missing required fields', async () => {
      const err = (await rejection(
        worker.tasker.createTask({ name: 'validated_order', namespace: 'defs', context: { quantity: 'many' } }),
      )) as TaskValidationError;
      const byField = Object.fromEntries(err.errors.map((e) => [e.field, [...e.messages].sort()]));
      expect(byField).toEqual({
        'context.orderId': ['orderId must be a string'],
        'context.quantity': ['quantity must be an integer number', 'quantity must not be less than 1'],
      });
    });

    it('in bulk, names the request and creates none of them', async () => {
      const before = await countTasks();
      const err = (await rejection(
        worker.tasker.createTasks([
          { name: 'validated_order', namespace: 'defs', context: { orderId: 'ok', quantity: 1 } },
          { name: 'validated_order', namespace: 'defs', context: { orderId: 'bad', quantity: -3 } },
        ]),
      )) as TaskValidationError;
      expect(err).toBeInstanceOf(TaskValidationError);
      expect(err.errors).toEqual([{ field: '[1].context.quantity', messages: ['quantity must not be less than 1'] }]);
      expect(await countTasks()).toBe(before);
    });

    it('created by a process without the DTO (API-only), an invalid context fails the root step before any work', async () => {
      const api = await start(schema, [], { worker: { enabled: false } });
      const created = await api.tasker.createTask({ name: 'validated_order', namespace: 'defs', context: { orderId: 7, quantity: 0 } });
      const done = await api.tasker.waitForTask(created.id, WAIT);
      expect(done.state).toBe('error');
      expect(done.steps[0]).toMatchObject({ state: 'error', attempts: 1, results: undefined });
      expect(done.steps[0].lastError).toMatchObject({ name: 'PermanentError', code: 'TASK_VALIDATION' });
      expect(done.steps[0].lastError!.message).toBe(
        'Task context is invalid for defs/validated_order@1.0.0: context.orderId orderId must be a string; context.quantity quantity must not be less than 1',
      );
    });

    it('runs a task whose context is valid', async () => {
      const task = await worker.tasker.createTask({
        name: 'validated_order',
        namespace: 'defs',
        context: { orderId: 'o-1', quantity: 2, address: { city: 'Oslo' } },
      });
      expect(task.context).toEqual({ orderId: 'o-1', quantity: 2, address: { city: 'Oslo' } });
      const done = await worker.tasker.waitForTask(task.id, WAIT);
      expect(done.state).toBe('complete');
      expect(done.steps[0].results).toEqual({ orderId: 'o-1', reserved: 2 });
    });
  });
});

describe('two versions of one task type side by side', () => {
  const schema = uniqueSchema('vers');
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close().catch(() => undefined);
    await dropSchema(schema);
  });

  it('picks the highest version by default, runs each version only where its handler is', async () => {
    // A process that knows 1.10.0 registers it but does not run steps.
    const registrar = await startApp(schema, [VersionedV2], { worker: { enabled: false } });
    apps.push(registrar);
    // The worker only has 1.9.0.
    const v1Worker = await startApp(schema, [VersionedV1]);
    apps.push(v1Worker);

    const latest = await v1Worker.tasker.createTask({ name: 'versioned', namespace: 'defs', context: {} });
    expect(latest.version).toBe('1.10.0');
    const fromApi = await registrar.tasker.createTask({ name: 'versioned', namespace: 'defs', context: {} });
    expect(fromApi.version).toBe('1.10.0');

    const pinned = await Promise.all(
      [1, 2, 3].map(() => v1Worker.tasker.createTask({ name: 'versioned', namespace: 'defs', version: '1.9.0', context: {} })),
    );
    for (const t of pinned) {
      expect(t.version).toBe('1.9.0');
      const done = await v1Worker.tasker.waitForTask(t.id, WAIT);
      expect(done.state).toBe('complete');
      expect(done.steps.map((s) => [s.name, s.state, s.results])).toEqual([['work', 'complete', 'ran 1.9.0']]);
    }

    // The 1.10.0 tasks were created first, yet the 1.9.0 worker never claimed their steps.
    for (const t of [latest, fromApi]) {
      const detail = await v1Worker.tasker.getTask(t.id);
      expect(detail.state).toBe('pending');
      expect(detail.steps.map((s) => [s.name, s.state, s.attempts])).toEqual([
        ['work', 'pending', 0],
        ['extra', 'pending', 0],
      ]);
      expect(detail.steps[0].readiness.ready).toBe(true);
      expect(v1Worker.events.filter((e) => e.taskId === t.id && e.event !== TaskerEvents.TASK_CREATED)).toEqual([]);
    }

    // A process with the 1.10.0 handler runs them.
    const v2Worker = await startApp(schema, [VersionedV2]);
    apps.push(v2Worker);
    for (const t of [latest, fromApi]) {
      const done = await v2Worker.tasker.waitForTask(t.id, WAIT);
      expect(done.state).toBe('complete');
      expect(done.steps.map((s) => [s.name, s.state, s.results])).toEqual([
        ['work', 'complete', 'ran 1.10.0'],
        ['extra', 'complete', 'extra'],
      ]);
    }
    expect(v1Worker.events.filter((e) => e.event === TaskerEvents.STEP_STARTED && e.version === '1.10.0')).toEqual([]);
  });
});
