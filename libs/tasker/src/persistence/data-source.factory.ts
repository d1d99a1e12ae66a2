import type { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { DatabaseUnavailableError, TaskerConfigError } from '../errors/boot.errors';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';

/** Tasker's DataSource: its own from `databaseUrl` (owned), or the app's TypeORM one by name. */
export async function openDataSource(config: TaskerConfig, moduleRef: ModuleRef): Promise<{ dataSource: DataSource; owned: boolean }> {
  if (config.dataSourceName) {
    const ds = findAppDataSource(config.dataSourceName, moduleRef);
    if (!ds.isInitialized) await ds.initialize();
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
  } catch (e) {
    throw new DatabaseUnavailableError(
      `Tasker could not connect to PostgreSQL at ${redactUrl(config.databaseUrl!)}: ${(e as Error).message}. ` +
        'Check databaseUrl (DATABASE_URL) and that the server is running and reachable.',
    );
  }
  return { dataSource, owned: true };
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
    throw new TaskerConfigError(
      `dataSourceName "${name}": no TypeORM DataSource with that name is registered. ` +
        `Import TypeOrmModule.forRoot({ ${name === 'default' ? '' : `name: '${name}', `}type: 'postgres', ... }) before TaskerModule, or use databaseUrl.`,
    );
  }
  const ds = found as DataSource;
  if (ds.options.type !== 'postgres') {
    throw new TaskerConfigError(`dataSourceName "${name}" is a ${ds.options.type} DataSource; Tasker needs PostgreSQL.`);
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
