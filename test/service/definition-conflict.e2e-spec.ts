import { DefinitionConflictError, DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';

// Two codebases that call their workflow (billing, invoice, 1.0.0): the released one...
@TaskHandler({ name: 'invoice', namespace: 'billing', version: '1.0.0', description: 'as released' })
class InvoiceReleased {
  @Step()
  draft() {}

  @Step({ retryLimit: 3 })
  @DependsOn('draft')
  send() {}
}

// ...the same steps, another replica of it (other descriptions and limits may change in place)...
@TaskHandler({ name: 'invoice', namespace: 'billing', version: '1.0.0', description: 'reworded', concurrency: { limit: 5 } })
class InvoiceSameSteps {
  @Step({ description: 'drafts it' })
  draft() {}

  @Step({ retryLimit: 3 })
  @DependsOn('draft')
  send() {}
}

// ...and code changed without a new version: more retries, a step added.
@TaskHandler({ name: 'invoice', namespace: 'billing', version: '1.0.0' })
class InvoiceChanged {
  @Step()
  draft() {}

  @Step()
  @DependsOn('draft')
  approve() {}

  @Step({ retryLimit: 5 })
  @DependsOn('draft')
  send() {}
}

@TaskHandler({ name: 'invoice', namespace: 'billing', version: '1.1.0' })
class InvoiceNewVersion extends InvoiceChanged {}

/** Registering (namespace, name, version) with other steps never overwrites what is recorded: the boot is refused. */
describe('one task type version registered with other steps', () => {
  const schema = uniqueSchema('def_conflict');
  const apps: TestApp[] = [];
  const start = async (handler: new () => object) => {
    const app = await startApp(schema, [handler], { worker: { enabled: false } });
    apps.push(app);
    return app;
  };
  const recorded = () =>
    withClient(async (c) => (await c.query(`SELECT definition FROM "${schema}".named_tasks WHERE name = 'invoice' AND version = '1.0.0'`)).rows[0].definition);

  beforeAll(async () => {
    await start(InvoiceReleased);
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await dropSchema(schema);
  });

  it('the same steps (another replica; descriptions and limits changed) boot', async () => {
    await expect(start(InvoiceSameSteps)).resolves.toBeDefined();
  });

  it('other steps refuse the boot with DefinitionConflictError naming each difference, and leave the recorded definition as it was', async () => {
    const before = await recorded();
    const boot = start(InvoiceChanged);
    await expect(boot).rejects.toBeInstanceOf(DefinitionConflictError);
    const message = (await boot.catch((e: Error) => e) as Error).message;
    expect(message).toContain(`Task type billing/invoice@1.0.0 is already recorded in schema "${schema}" with other steps`);
    expect(message).toContain('steps "approve" are here but not recorded');
    expect(message).toContain('step "send": retryLimit is 3 recorded, 5 here');
    expect(message).toContain('a changed workflow needs a new version');
    expect(await recorded()).toEqual(before);
  });

  it('the changed workflow under a new version boots next to the old one', async () => {
    const app = await start(InvoiceNewVersion);
    expect((await app.tasker.listTaskTypes({ namespace: 'billing' })).map((t) => t.version)).toEqual(['1.0.0', '1.1.0']);
  });
});
