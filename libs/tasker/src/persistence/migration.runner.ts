import type { DataSource } from 'typeorm';
import { quoteIdent, taskerMigrations } from '../../../../migrations';

/**
 * Applies Tasker's pending migrations to its schema. An advisory lock serialises processes
 * booting at the same time; each migration runs in its own transaction. Returns the names applied.
 */
export async function runTaskerMigrations(dataSource: DataSource, schema: string): Promise<string[]> {
  const s = quoteIdent(schema);
  const lockKey = `tasker-migrations:${schema}`;
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const applied: string[] = [];
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await runner.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (
         id serial PRIMARY KEY, timestamp bigint NOT NULL, name text NOT NULL UNIQUE,
         run_at timestamptz NOT NULL DEFAULT now())`,
    );
    const rows: { name: string }[] = await runner.query(`SELECT name FROM ${s}.migrations`);
    const done = new Set(rows.map((r) => r.name));
    for (const Migration of taskerMigrations(schema)) {
      const migration = new Migration();
      const name = migration.name ?? Migration.name;
      if (done.has(name)) continue;
      await runner.startTransaction();
      try {
        await migration.up(runner);
        await runner.query(`INSERT INTO ${s}.migrations (timestamp, name) VALUES ($1, $2)`, [
          Number(/(\d{13})$/.exec(name)?.[1] ?? 0),
          name,
        ]);
        await runner.commitTransaction();
      } catch (e) {
        await runner.rollbackTransaction();
        throw e;
      }
      applied.push(name);
    }
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    await runner.release();
  }
  return applied;
}

/** Names of the migrations this version of Tasker expects that the database does not have yet. */
export async function pendingTaskerMigrations(dataSource: DataSource, schema: string): Promise<string[]> {
  const s = quoteIdent(schema);
  const exists: { t: string | null }[] = await dataSource.query('SELECT to_regclass($1) AS t', [`${s}.migrations`]);
  const done = new Set<string>();
  if (exists[0]?.t) {
    for (const r of (await dataSource.query(`SELECT name FROM ${s}.migrations`)) as { name: string }[]) done.add(r.name);
  }
  return taskerMigrations(schema)
    .map((M) => new M().name ?? M.name)
    .filter((n) => !done.has(n));
}
