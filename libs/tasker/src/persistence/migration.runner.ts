import type { DataSource } from 'typeorm';
import { TaskerConfigError } from '../errors/boot.errors';
import { taskerMigrations } from './migrations';
import { quoteIdent } from './naming';

const timestampOf = (name: string) => Number(/(\d{13})$/.exec(name)?.[1] ?? 0);

/**
 * Applies Tasker's pending migrations to its schema. An advisory lock serialises processes booting
 * at the same time; each migration runs in its own transaction. Returns the names applied.
 *
 * A process older than the schema (a migration newer than all of its own is recorded: a rolling
 * upgrade, an older replica restarting) applies nothing, so it never puts back older function
 * bodies. A schema made by a line of migrations this version does not know (a development build)
 * is refused with what to do.
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
    const pending = pendingOf(schema, rows.map((r) => r.name));
    for (const Migration of pending) {
      const migration = new Migration();
      const name = migration.name!;
      await runner.startTransaction();
      try {
        await migration.up(runner);
        await runner.query(`INSERT INTO ${s}.migrations (timestamp, name) VALUES ($1, $2)`, [timestampOf(name), name]);
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

/** Names of the migrations this version of Tasker would apply to the schema (none when the schema is newer). */
export async function pendingTaskerMigrations(dataSource: DataSource, schema: string): Promise<string[]> {
  const s = quoteIdent(schema);
  const exists: { t: string | null }[] = await dataSource.query('SELECT to_regclass($1) AS t', [`${s}.migrations`]);
  const done: string[] = [];
  if (exists[0]?.t) {
    for (const r of (await dataSource.query(`SELECT name FROM ${s}.migrations`)) as { name: string }[]) done.push(r.name);
  }
  return pendingOf(schema, done).map((M) => new M().name!);
}

function pendingOf(schema: string, done: string[]) {
  const all = taskerMigrations(schema);
  const known = new Set(all.map((M) => new M().name!));
  const newest = Math.max(...[...known].map(timestampOf));
  if (done.some((n) => timestampOf(n) > newest)) return [];
  const foreign = done.filter((n) => !known.has(n) && !n.startsWith('TaskerFunctions_'));
  if (foreign.length > 0) {
    throw new TaskerConfigError(
      `Schema "${schema}" was made by migrations this version of Tasker does not know (${foreign.join(', ')}): ` +
        `a development build's schema. Drop it (DROP SCHEMA "${schema}" CASCADE) and let Tasker create it again, or use another schema.`,
    );
  }
  const applied = new Set(done);
  return all.filter((M) => !applied.has(new M().name!));
}
