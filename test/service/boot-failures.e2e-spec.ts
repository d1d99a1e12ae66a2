import { Inject, Injectable, INestApplicationContext, Module, ModuleMetadata, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import { createServer } from 'node:net';
import {
  DatabaseUnavailableError,
  DependsOn,
  HandlerDefinitionError,
  Step,
  TaskerConfigError,
  TaskerModule,
  TaskerModuleOptions,
  TaskHandler,
} from 'nestjs-tasker';
import { databaseUrl, dropSchema, uniqueSchema, withClient } from '../support/database';

// ---- handlers, one problem each ------------------------------------------------------------

@TaskHandler({ name: 'valid', namespace: 'boot' })
class ValidHandler {
  @Step()
  only() {
    return 1;
  }
}

@TaskHandler({ name: 'cyclic', namespace: 'boot' })
class CyclicHandler {
  @Step()
  @DependsOn('gamma')
  alpha() {}

  @Step()
  @DependsOn('alpha')
  beta() {}

  @Step()
  @DependsOn('beta')
  gamma() {}
}

@TaskHandler({ name: 'unknown_dep', namespace: 'boot', version: '1.0.0' })
class UnknownDependencyHandler {
  @Step()
  pack() {}

  @Step()
  @DependsOn('pack', 'label')
  ship() {}
}

@TaskHandler({ name: 'duplicate_step', namespace: 'boot' })
class DuplicateStepHandler {
  @Step({ name: 'charge' })
  chargeCard() {}

  @Step({ name: 'charge' })
  chargeWallet() {}
}

@TaskHandler({ name: 'twice', namespace: 'boot' })
class ListedTwiceHandler {
  @Step()
  run() {}
}

@TaskHandler({ name: 'same_key', namespace: 'boot', version: '1.0.0' })
class SameKeyHandlerA {
  @Step()
  a() {}
}

@TaskHandler({ name: 'same_key', namespace: 'boot', version: '1.0.0' })
class SameKeyHandlerB {
  @Step()
  b() {}
}

@Injectable({ scope: Scope.REQUEST })
@TaskHandler({ name: 'request_scoped_outer', namespace: 'boot' })
class RequestScopedOuterHandler {
  @Step()
  run() {}
}

@TaskHandler({ name: 'request_scoped_inner', namespace: 'boot' })
@Injectable({ scope: Scope.REQUEST })
class RequestScopedInnerHandler {
  @Step()
  run() {}
}

@TaskHandler({ name: 'needs_request', namespace: 'boot' })
class NeedsRequestHandler {
  constructor(@Inject(REQUEST) readonly request: unknown) {}

  @Step()
  run() {}
}

@Injectable({ scope: Scope.REQUEST })
class PerRequestService {}

@TaskHandler({ name: 'needs_request_service', namespace: 'boot' })
class NeedsRequestServiceHandler {
  constructor(readonly perRequest: PerRequestService) {}

  @Step()
  run() {}
}

// ---- helpers -----------------------------------------------------------------------------

function options(schema: string, overrides: Partial<TaskerModuleOptions> = {}): TaskerModuleOptions {
  return { databaseUrl: databaseUrl(), schema, logging: false, poolSize: 2, ...overrides };
}

function appMetadata(schema: string, providers: ModuleMetadata['providers'], overrides: Partial<TaskerModuleOptions> = {}): ModuleMetadata {
  return {
    imports: [EventEmitterModule.forRoot(), ScheduleModule.forRoot(), TaskerModule.forRoot(options(schema, overrides))],
    providers,
  };
}

/** Compiles and initialises the module; returns the error that stopped it (at compile or at init). */
async function bootError(metadata: ModuleMetadata): Promise<Error> {
  let moduleRef: TestingModule | undefined;
  let app: INestApplicationContext | undefined;
  try {
    moduleRef = await Test.createTestingModule(metadata).compile();
    app = await moduleRef.init();
  } catch (e) {
    await moduleRef?.close().catch(() => undefined);
    return e as Error;
  }
  await app.close();
  throw new Error('expected the application to refuse to start, but it started');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function schemaExists(schema: string): Promise<boolean> {
  const r = await withClient((c) => c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]));
  return r.rowCount === 1;
}

// ---- tests -------------------------------------------------------------------------------

describe('the app refuses to start', () => {
  const schemas: string[] = [];
  const schema = () => {
    const s = uniqueSchema('boot');
    schemas.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of schemas) await dropSchema(s);
  });

  it('(control) boots with a valid handler and the same setup', async () => {
    const moduleRef = await Test.createTestingModule(appMetadata(schema(), [ValidHandler])).compile();
    const app = await moduleRef.init();
    await app.close();
  });

  describe('on an invalid workflow', () => {
    it('a cycle, naming the cycle', async () => {
      const s = schema();
      const err = await bootError(appMetadata(s, [CyclicHandler]));
      expect(err).toBeInstanceOf(HandlerDefinitionError);
      expect(err.message).toBe('@TaskHandler CyclicHandler (boot/cyclic@0.1.0) is invalid: its steps form a cycle: alpha → beta → gamma → alpha.');
      // the workflow is checked before the database is touched
      expect(await schemaExists(s)).toBe(false);
    });

    it('an unknown @DependsOn step', async () => {
      const err = await bootError(appMetadata(schema(), [UnknownDependencyHandler]));
      expect(err).toBeInstanceOf(HandlerDefinitionError);
      expect(err.message).toBe(
        '@TaskHandler UnknownDependencyHandler (boot/unknown_dep@1.0.0) is invalid: step "ship" depends on "label", which is not a step of this handler.',
      );
    });

    it('a duplicate step name', async () => {
      const err = await bootError(appMetadata(schema(), [DuplicateStepHandler]));
      expect(err).toBeInstanceOf(HandlerDefinitionError);
      expect(err.message).toBe('@TaskHandler DuplicateStepHandler (boot/duplicate_step@0.1.0) is invalid: step "charge" is declared more than once.');
    });

    it('one handler class listed in two modules', async () => {
      @Module({ providers: [ListedTwiceHandler] })
      class FirstModule {}
      @Module({ providers: [ListedTwiceHandler] })
      class SecondModule {}
      const metadata = appMetadata(schema(), []);
      metadata.imports!.push(FirstModule, SecondModule);
      const err = await bootError(metadata);
      expect(err).toBeInstanceOf(HandlerDefinitionError);
      expect(err.message).toBe(
        "@TaskHandler ListedTwiceHandler (boot/twice@0.1.0) is registered more than once; list it in one module's providers only.",
      );
    });

    it('two classes declaring the same (namespace, name, version)', async () => {
      const err = await bootError(appMetadata(schema(), [SameKeyHandlerA, SameKeyHandlerB]));
      expect(err).toBeInstanceOf(HandlerDefinitionError);
      expect(err.message).toMatch(
        /^@TaskHandler SameKeyHandler([AB]) and SameKeyHandler(?!\1)[AB] both declare boot\/same_key@1\.0\.0; give one another name, namespace or version\.$/,
      );
    });
  });

  describe('on a request-scoped handler', () => {
    const expected = (cls: string) =>
      `@TaskHandler ${cls} is request-scoped (or depends on a request-scoped provider); ` +
      'workers run steps outside any request and share one instance, so task handlers must be singletons (the default scope).';

    it('@Injectable({ scope: REQUEST }) above @TaskHandler', async () => {
      const err = await bootError(appMetadata(schema(), [RequestScopedOuterHandler]));
      expect(err).toBeInstanceOf(HandlerDefinitionError);
      expect(err.message).toBe(expected('RequestScopedOuterHandler'));
    });

    it('@Injectable({ scope: REQUEST }) below @TaskHandler', async () => {
      const err = await bootError(appMetadata(schema(), [RequestScopedInnerHandler]));
      expect(err).toBeInstanceOf(HandlerDefinitionError);
      expect(err.message).toBe(expected('RequestScopedInnerHandler'));
    });

    it('a handler injecting REQUEST', async () => {
      const err = await bootError(appMetadata(schema(), [NeedsRequestHandler]));
      expect(err.message).toBe(expected('NeedsRequestHandler'));
    });

    it('a handler depending on a request-scoped service', async () => {
      const err = await bootError(appMetadata(schema(), [PerRequestService, NeedsRequestServiceHandler]));
      expect(err.message).toBe(expected('NeedsRequestServiceHandler'));
    });
  });

  describe('on a missing host module', () => {
    it('without EventEmitterModule.forRoot()', async () => {
      const err = await bootError({ imports: [ScheduleModule.forRoot(), TaskerModule.forRoot(options(schema()))], providers: [ValidHandler] });
      expect(err).toBeInstanceOf(TaskerConfigError);
      expect(err.message).toBe(
        'TaskerModule needs @nestjs/event-emitter: add EventEmitterModule.forRoot() to the imports of your root module (once).',
      );
    });

    it('without ScheduleModule.forRoot()', async () => {
      const err = await bootError({ imports: [EventEmitterModule.forRoot(), TaskerModule.forRoot(options(schema()))], providers: [ValidHandler] });
      expect(err).toBeInstanceOf(TaskerConfigError);
      expect(err.message).toBe('TaskerModule needs @nestjs/schedule: add ScheduleModule.forRoot() to the imports of your root module (once).');
    });
  });

  describe('on bad options', () => {
    it('worker.concurrency 0', async () => {
      const err = await bootError(appMetadata(schema(), [ValidHandler], { worker: { concurrency: 0 } }));
      expect(err).toBeInstanceOf(TaskerConfigError);
      expect(err.message).toBe('TaskerModule options are invalid: worker.concurrency must be a positive integer.');
    });

    it('no databaseUrl', async () => {
      const err = await bootError(appMetadata(schema(), [ValidHandler], { databaseUrl: undefined }));
      expect(err).toBeInstanceOf(TaskerConfigError);
      expect(err.message).toBe(
        'TaskerModule options are invalid: a database is required: set databaseUrl (e.g. process.env.DATABASE_URL) or dataSourceName.',
      );
    });

    it('bad options given through forRootAsync', async () => {
      const err = await bootError({
        imports: [
          EventEmitterModule.forRoot(),
          ScheduleModule.forRoot(),
          TaskerModule.forRootAsync({ useFactory: async () => options(schema(), { schema: 'Bad-Schema' }) }),
        ],
      });
      expect(err).toBeInstanceOf(TaskerConfigError);
      expect(err.message).toBe('TaskerModule options are invalid: schema must be a lower-case Postgres identifier (letters, digits, _), got "Bad-Schema".');
    });
  });

  describe('on the database', () => {
    it('unreachable: says where (without the password) and what to check', async () => {
      const port = await freePort();
      const secret = 'pw-Sup3rSecret';
      const err = await bootError(appMetadata(schema(), [ValidHandler], { databaseUrl: `postgres://tasker:${secret}@127.0.0.1:${port}/test` }));
      expect(err).toBeInstanceOf(DatabaseUnavailableError);
      expect(err.message).toContain(`Tasker could not connect to PostgreSQL at postgres://tasker:***@127.0.0.1:${port}/test: `);
      expect(err.message).toContain('ECONNREFUSED');
      expect(err.message).toContain('Check databaseUrl (DATABASE_URL) and that the server is running and reachable.');
      expect(err.message).not.toContain(secret);
      expect(String(err.stack)).not.toContain(secret);
    });

    it('a login the server refuses: says so without the password', async () => {
      const secret = 'pw-An0therSecret';
      const url = new URL(databaseUrl());
      url.username = 'no_such_tasker_role';
      url.password = secret;
      const err = await bootError(appMetadata(schema(), [ValidHandler], { databaseUrl: url.toString() }));
      expect(err).toBeInstanceOf(DatabaseUnavailableError);
      expect(err.message).toContain('Tasker could not connect to PostgreSQL at postgres://no_such_tasker_role:***@');
      // The server's own reason, which depends on its auth method (trust here, password when embedded).
      expect(err.message).toMatch(/role "no_such_tasker_role" does not exist|password authentication failed for user "no_such_tasker_role"/);
      expect(err.message).not.toContain(secret);
    });

    it('migrationsRun: false on an unmigrated schema: names the schema and the missing migrations', async () => {
      const s = schema();
      const err = await bootError(appMetadata(s, [ValidHandler], { migrationsRun: false }));
      expect(err).toBeInstanceOf(TaskerConfigError);
      expect(err.message).toMatch(
        new RegExp(`^Schema "${s}" lacks Tasker migrations \\S.*\\. Run taskerMigrations\\(\\) with your own migration tool, or set migrationsRun: true\\.$`),
      );
      expect(err.message).toContain('TaskerBaseline1764900000000');
      // nothing was created behind the user's back
      expect(await schemaExists(s)).toBe(false);
    });

    it('(control) migrationsRun: false boots once the schema is migrated', async () => {
      const s = schema();
      const migrating = await Test.createTestingModule(appMetadata(s, [ValidHandler])).compile();
      await (await migrating.init()).close();
      const moduleRef = await Test.createTestingModule(appMetadata(s, [ValidHandler], { migrationsRun: false })).compile();
      const app = await moduleRef.init();
      await app.close();
    });
  });
});
