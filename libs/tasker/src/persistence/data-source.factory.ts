import type { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { DatabaseUnavailableError, TaskerConfigError } from '../errors/boot.errors';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import { DATA_SOURCE_NOT_FOUND, DATA_SOURCE_NOT_POSTGRES, DATABASE_UNREACHABLE } from '../tasker.messages';

/** Tasker's DataSource: its own from `databaseUrl` (owned), or the app's TypeORM one by name. */
export async function openDataSource(config: TaskerConfig, moduleRef: ModuleRef): Promise<{ dataSource: DataSource; owned: boolean }> {
  if (config.dataSourceName) {
    const ds = findAppDataSource(config.dataSourceName, moduleRef);
    if (!ds.isInitialized) await ds.initialize();
    // The app's pool serves Tasker's statements too, and has the same window: guarded as well.
    guardNewClients(ds);
    return { dataSource: ds, owned: false };
  }
  const dataSource = new DataSource({
    type: 'postgres',
    url: config.databaseUrl,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    // connectionTimeoutMillis: waiting for a pool slot or a new connection is bounded too (a server
    // that accepts nothing would otherwise park every statement for good).
    extra: { max: config.poolSize, application_name: 'tasker', connectionTimeoutMillis: config.statementTimeoutMs },
  });
  try {
    await dataSource.initialize();
    guardNewClients(dataSource);
  } catch (e) {
    throw new DatabaseUnavailableError(DATABASE_UNREACHABLE(redactUrl(config.databaseUrl!), (e as Error).message));
  }
  return { dataSource, owned: true };
}

type GuardedPool = { on(event: 'connect', f: (c: { on(e: 'error', f: () => void): void }) => void): void };
const guarded = new WeakSet<object>();

/**
 * Every new connection of the pool (Tasker's own, or the app's when Tasker uses it) gets an 'error'
 * listener of its own. pg-pool hands a new client over (dropping its own listener) while pg is
 * still parsing the packet that said "ready"; when the same packet also carries a fatal error (the
 * server shutting down, pg_terminate_backend), the client emits 'error' before anyone listens
 * again, and an unhandled 'error' event would kill the process. The error itself also reaches the
 * query or the pool, which handle it; this listener only keeps the process alive. Connections
 * opened before (idle ones have pg-pool's listener, checked-out ones their user's) are not
 * concerned. Once per pool, however many Tasker modules share it.
 */
function guardNewClients(dataSource: DataSource): void {
  const pool = (dataSource.driver as unknown as { master?: GuardedPool }).master;
  if (!pool || guarded.has(pool)) return;
  guarded.add(pool);
  pool.on('connect', (client) => client.on('error', () => undefined));
}

function findAppDataSource(name: string, moduleRef: ModuleRef): DataSource {
  // @nestjs/typeorm registers the default DataSource under its class, named ones as "<name>DataSource".
  const token = name === 'default' ? DataSource : `${name}DataSource`;
  let found: unknown;
  try {
    found = moduleRef.get(token as never, { strict: false });
  } catch {
    found = undefined;
  }
  if (!found || typeof (found as DataSource).query !== 'function') {
    throw new TaskerConfigError(DATA_SOURCE_NOT_FOUND(name));
  }
  const ds = found as DataSource;
  if (ds.options.type !== 'postgres') {
    throw new TaskerConfigError(DATA_SOURCE_NOT_POSTGRES(name, String(ds.options.type)));
  }
  return ds;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
