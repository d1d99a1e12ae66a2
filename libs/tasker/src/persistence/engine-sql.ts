import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quoteIdent, wakeChannel } from './naming';

/**
 * The engine's SQL as it is kept in the package: migrations (DDL) under ./migrations and one file
 * per function under ./functions, written against two placeholders that are replaced when the SQL
 * is run: `:TASKER_SCHEMA` (the quoted schema) and `:TASKER_WAKE_CHANNEL` (the NOTIFY channel of
 * that schema, as a string literal).
 */
const FUNCTIONS_DIR = join(__dirname, 'functions');
const MIGRATIONS_DIR = join(__dirname, 'migrations');

/** The SQL text with the placeholders of a schema filled in. */
export function renderSql(sql: string, schema: string): string {
  const channel = `'${wakeChannel(schema).replace(/'/g, "''")}'`;
  return sql.replace(/:TASKER_SCHEMA\b/g, quoteIdent(schema)).replace(/:TASKER_WAKE_CHANNEL\b/g, channel);
}

/** A migration's DDL, as written (placeholders not filled in). */
export function migrationSql(file: string): string {
  return readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
}

/** Every function file, by name, in name order, as written. */
export function functionFiles(): { name: string; sql: string }[] {
  return readdirSync(FUNCTIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => ({ name: f.slice(0, -'.sql'.length), sql: readFileSync(join(FUNCTIONS_DIR, f), 'utf8') }));
}

/** A short hash of all function files: what the functions migration of this version is named after. */
export function functionsHash(): string {
  const h = createHash('sha256');
  for (const f of functionFiles()) h.update(f.name).update('\0').update(f.sql).update('\0');
  return h.digest('hex').slice(0, 12);
}
