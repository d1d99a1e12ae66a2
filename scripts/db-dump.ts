// `npm run db:dump`: migrates a throwaway schema on DATABASE_URL and writes its DDL to
// schema.sql (at the repository's root: the dump, not a source the package reads), so every change to it shows in review.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { runTaskerMigrations } from '../libs/tasker/src/persistence/migration.runner';
import { dumpSchema } from './schema-dump';

const OUTPUT = join(__dirname, '..', 'schema.sql');

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run through `npm run db:dump` (it starts an embedded Postgres).');
  const schema = `tasker_dump_${process.pid}_${randomBytes(4).toString('hex')}`;
  const dataSource = new DataSource({ type: 'postgres', url });
  const client = new Client({ connectionString: url });
  await dataSource.initialize();
  try {
    await client.connect();
    await runTaskerMigrations(dataSource, schema);
    const text = await dumpSchema(client, schema);
    writeFileSync(OUTPUT, text);
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    console.log(`db:dump: wrote ${relative(process.cwd(), OUTPUT)} (${text.split('\n').length - 1} lines, PostgreSQL ${rows[0].server_version})`);
  } finally {
    await client.end().catch(() => undefined);
    await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await dataSource.destroy();
  }
}

main().catch((e: unknown) => {
  console.error('db:dump failed:', e);
  process.exitCode = 1;
});
