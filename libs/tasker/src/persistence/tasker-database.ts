import type { DataSource, EntityManager } from 'typeorm';
import { quoteIdent } from '../../../../migrations/naming';
import { mapDatabaseError } from './pg-errors';

/**
 * Tasker's handle on Postgres: the DataSource, the quoted schema, and error mapping in one place.
 * Connected at boot, after the handlers were validated, so a bad workflow is reported first.
 */
export class TaskerDatabase {
  /** The quoted schema, ready to put in SQL. */
  readonly s: string;
  private ds?: DataSource;
  private owned = false;

  constructor(readonly schema: string) {
    this.s = quoteIdent(schema);
  }

  get dataSource(): DataSource {
    if (!this.ds) throw new Error('Tasker is not connected to its database yet (TaskerModule has not finished booting).');
    return this.ds;
  }

  get isConnected(): boolean {
    return this.ds?.isInitialized ?? false;
  }

  /** `owned`: Tasker opened it and closes it at shutdown; an app's DataSource is left alone. */
  attach(dataSource: DataSource, owned: boolean): void {
    this.ds = dataSource;
    this.owned = owned;
  }

  async close(): Promise<void> {
    if (this.owned && this.ds?.isInitialized) await this.ds.destroy();
  }

  /** Runs one statement, on the given transaction's connection when a manager is passed. */
  async query<T = Record<string, any>>(sql: string, params: unknown[] = [], manager?: EntityManager): Promise<T[]> {
    try {
      return await (manager ?? this.dataSource.manager).query(sql, params);
    } catch (e) {
      throw mapDatabaseError(e);
    }
  }

  async transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(fn);
    } catch (e) {
      throw mapDatabaseError(e);
    }
  }
}
