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

  /**
   * `statementTimeoutMs`: the longest any of Tasker's own statements may take (see
   * TaskerModuleOptions.statementTimeoutMs). Default: none (a test may build one by hand).
   */
  constructor(
    readonly schema: string,
    readonly statementTimeoutMs = 0,
  ) {
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
      // A caller's transaction runs on the caller's connection, under the caller's rules.
      if (manager || !this.statementTimeoutMs) return await (manager ?? this.dataSource.manager).query(sql, params);
      return await this.queryWithDeadline<T>(sql, params);
    } catch (e) {
      throw mapDatabaseError(e);
    }
  }

  /**
   * A statement on a connection of its own that may not take longer than statementTimeoutMs.
   * Without it, a connection that goes silent (a route lost without a reset, a stuck proxy: nothing
   * comes back, not even an error) kept the statement waiting for ever: the worker's claim loop and
   * the pool with it (found by test/faults/network-faults.faults-spec.ts, "black holes"). Past the
   * deadline the socket is destroyed, which fails the statement and removes the connection from the
   * pool; the error is a connection error (08006), so the worker retries like after any disconnect.
   */
  private async queryWithDeadline<T>(sql: string, params: unknown[]): Promise<T[]> {
    const runner = this.dataSource.createQueryRunner();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const connection = (await runner.connect()) as { on(e: 'error', f: () => void): void; connection?: { stream?: { destroy(): void } } };
      timer = setTimeout(() => {
        timedOut = true;
        // The client reports the destroyed socket as an 'error' event too, maybe after TypeORM let go of it:
        // without a listener that would crash the process.
        connection.on('error', () => undefined);
        connection.connection?.stream?.destroy();
      }, this.statementTimeoutMs);
      return await runner.query(sql, params);
    } catch (e) {
      if (!timedOut) throw e;
      throw Object.assign(
        new Error(`The database did not answer a Tasker statement within ${this.statementTimeoutMs} ms (statementTimeoutMs); its connection was closed as dead.`),
        { code: '08006' },
      );
    } finally {
      clearTimeout(timer);
      await runner.release().catch(() => undefined);
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
