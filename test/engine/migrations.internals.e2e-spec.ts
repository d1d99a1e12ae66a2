// Internals: runs the migration runner and the migrations list directly, and edits the migrations table, to show how the DDL and the function bodies reach a database.
import { DataSource } from 'typeorm';
import { TaskerConfigError } from '../../libs/tasker/src/errors/boot.errors';
import { functionsMigrationName } from '../../libs/tasker/src/persistence/migrations';
import { pendingTaskerMigrations, runTaskerMigrations } from '../../libs/tasker/src/persistence/migration.runner';
import { databaseUrl, dropSchema, uniqueSchema, withClient } from '../support/database';

/**
 * How the engine's SQL reaches a database: the DDL migrations once each, then every function body
 * from its file, again whenever the files change, never put back by an older process, and with
 * many processes booting at once.
 */
describe('migrations and function bodies', () => {
  const ALL = ['TaskerBaseline1764900000000', 'TaskerDynamicSteps1765000000000', 'TaskerSchedules1765100000000', 'TaskerFlowControl1765200000000', 'TaskerOperations1765300000000', 'TaskerLeanWrites1765500000000', 'TaskerCompactClaims1765600000000', 'TaskerFoldedTaskMoves1765700000000', functionsMigrationName()];
  const schemas: string[] = [];
  let dataSource: DataSource;
  const fresh = () => {
    const s = uniqueSchema('mig');
    schemas.push(s);
    return s;
  };
  const names = (s: string) => withClient(async (c) => (await c.query(`SELECT name FROM "${s}".migrations ORDER BY id`)).rows.map((r) => r.name));
  const body = (s: string, fn: string) =>
    withClient(async (c) => (await c.query(`SELECT prosrc FROM pg_proc WHERE oid = $1::regprocedure`, [`"${s}".${fn}`])).rows[0].prosrc as string);

  beforeAll(async () => {
    dataSource = new DataSource({ type: 'postgres', url: databaseUrl(), extra: { max: 12 } });
    await dataSource.initialize();
  });
  afterAll(async () => {
    for (const s of schemas) await dropSchema(s);
    await dataSource?.destroy();
  });

  it('applies the DDL migrations, then the functions migration named after the function files; a second run applies nothing', async () => {
    const s = fresh();
    expect(await runTaskerMigrations(dataSource, s)).toEqual(ALL);
    expect(functionsMigrationName()).toMatch(/^TaskerFunctions_[0-9a-f]{12}_1765700000001$/);
    expect(await runTaskerMigrations(dataSource, s)).toEqual([]);
    expect(await pendingTaskerMigrations(dataSource, s)).toEqual([]);
    expect(await body(s, '_wake(text)')).toContain(`'tasker:${s}'`);
  });

  it('re-applies every body when the files changed (a new functions migration name), not before', async () => {
    const s = fresh();
    await runTaskerMigrations(dataSource, s);
    // As if the database held the bodies of another engine: its functions migration has another name.
    await withClient(async (c) => {
      await c.query(`CREATE OR REPLACE FUNCTION "${s}"._wake(p_payload text) RETURNS void LANGUAGE sql AS $$ SELECT NULL::void $$`);
      await c.query(`UPDATE "${s}".migrations SET name = 'TaskerFunctions_000000000000_1765000000001' WHERE name LIKE 'TaskerFunctions%'`);
    });
    expect(await pendingTaskerMigrations(dataSource, s)).toEqual([functionsMigrationName()]);
    expect(await runTaskerMigrations(dataSource, s)).toEqual([functionsMigrationName()]);
    expect(await body(s, '_wake(text)')).toContain('pg_notify');
  });

  it('an older process (the schema has a newer migration) applies nothing, so newer bodies stay', async () => {
    const s = fresh();
    await runTaskerMigrations(dataSource, s);
    await withClient(async (c) => {
      await c.query(`DELETE FROM "${s}".migrations WHERE name LIKE 'TaskerFunctions%'`);
      await c.query(`INSERT INTO "${s}".migrations (timestamp, name) VALUES (1999999999999, 'TaskerFuture1999999999999')`);
      await c.query(`CREATE OR REPLACE FUNCTION "${s}"._wake(p_payload text) RETURNS void LANGUAGE sql AS $$ SELECT NULL::void $$`);
    });
    expect(await pendingTaskerMigrations(dataSource, s)).toEqual([]);
    expect(await runTaskerMigrations(dataSource, s)).toEqual([]);
    expect(await body(s, '_wake(text)')).not.toContain('pg_notify');
  });

  it('refuses a schema made by migrations it does not know (a development build), saying what to do', async () => {
    const s = fresh();
    await runTaskerMigrations(dataSource, s);
    await withClient((c) => c.query(`INSERT INTO "${s}".migrations (timestamp, name) VALUES (1764140000000, 'TaskerInitial1764140000000')`));
    const err = await runTaskerMigrations(dataSource, s).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TaskerConfigError);
    expect((err as Error).message).toBe(
      `Schema "${s}" was made by migrations this version of Tasker does not know (TaskerInitial1764140000000): a development build's schema. ` +
        `Drop it (DROP SCHEMA "${s}" CASCADE) and let Tasker create it again, or use another schema.`,
    );
  });

  it('ten processes booting at once: each migration is applied exactly once', async () => {
    const s = fresh();
    const sources = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const ds = new DataSource({ type: 'postgres', url: databaseUrl(), extra: { max: 1 } });
        return ds.initialize();
      }),
    );
    try {
      const applied = await Promise.all(sources.map((ds) => runTaskerMigrations(ds, s)));
      expect(applied.flat().sort()).toEqual([...ALL].sort());
      expect(await names(s)).toEqual(ALL);
    } finally {
      await Promise.all(sources.map((ds) => ds.destroy()));
    }
  });
});
