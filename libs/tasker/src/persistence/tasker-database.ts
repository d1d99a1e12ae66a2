import type { DataSource, EntityManager } from 'typeorm';
import { quoteIdent } from './naming';
import { isConnectionError, mapDatabaseError } from './pg-errors';

/** The little of pg's Pool and PoolClient that Tasker uses. */
interface PgPool {
  connect(): Promise<PgClient>;
}
interface PgClient {
  query<T>(q: { name?: string; text: string; values: unknown[] }): Promise<{ rows: T[] }>;
  release(destroy?: boolean): void;
  on(event: 'error', f: () => void): void;
  listeners(event: 'error'): unknown[];
  connection?: { stream?: { destroy(): void } };
}

const ignoreError = () => undefined;

/** A read that failed on a lost connection is tried this many times in all, each on a fresh connection. */
const READ_ATTEMPTS = 3;

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

  /**
   * Runs one statement, on the given transaction's connection when a manager is passed.
   * `name` makes it a prepared statement on each pooled connection (parsed and planned once): for
   * the statements a worker runs for every step, where parse and plan were a tenth of the time.
   */
  async query<T = Record<string, any>>(sql: string, params: unknown[] = [], manager?: EntityManager, name?: string): Promise<T[]> {
    try {
      // A caller's transaction runs on the caller's connection, under the caller's rules.
      if (manager) return await manager.query(sql, params);
      return await this.queryOnPool<T>(sql, params, name);
    } catch (e) {
      throw mapDatabaseError(e);
    }
  }

  /**
   * Runs a statement that only reads (retrying it cannot change anything). One that fails because
   * its connection did (a pooled connection the server closed in a restart) is tried again on a
   * fresh one, twice, after a short pause; then DatabaseUnavailableError.
   */
  async read<T = Record<string, any>>(sql: string, params: unknown[] = [], manager?: EntityManager): Promise<T[]> {
    if (manager) return this.query<T>(sql, params, manager);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.queryOnPool<T>(sql, params);
      } catch (e) {
        if (!isConnectionError(e) || attempt >= READ_ATTEMPTS) throw mapDatabaseError(e);
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  /**
   * A statement on a pooled connection of its own, straight on pg's pool (TypeORM's query runner
   * around it cost more than the statement's parse), that may not take longer than
   * statementTimeoutMs. Without a deadline, a connection that goes silent (a route lost without a
   * reset, a stuck proxy: nothing comes back, not even an error) would keep the statement waiting
   * for ever, and the worker's claim loop and the pool with it. Past the deadline the socket is
   * destroyed, which fails the statement and removes the connection from the pool; the error is a
   * connection error (08006), so the worker retries like after any disconnect.
   */
  private async queryOnPool<T>(text: string, values: unknown[], name?: string): Promise<T[]> {
    const client = await this.pool.connect();
    // A checked-out client has no listener of pg-pool's: a fatal message from the server (a backend
    // terminated mid-statement) fails the statement and is also emitted as 'error', which would
    // crash the process. This listener stays: the event may come after the client went back.
    if (!client.listeners('error').includes(ignoreError)) client.on('error', ignoreError);
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    if (this.statementTimeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        client.connection?.stream?.destroy();
      }, this.statementTimeoutMs);
    }
    try {
      return (await client.query<T>(name ? { name, text, values } : { text, values })).rows;
    } catch (e) {
      if (!timedOut) throw e;
      throw Object.assign(
        new Error(`The database did not answer a Tasker statement within ${this.statementTimeoutMs} ms (statementTimeoutMs); its connection was closed as dead.`),
        { code: '08006' },
      );
    } finally {
      clearTimeout(timer);
      // pg-pool drops a client whose connection broke by itself; a timed-out one is dropped here.
      client.release(timedOut);
    }
  }

  /** pg's pool under the DataSource (TypeORM's Postgres driver keeps it as `master`). */
  private get pool(): PgPool {
    const pool = (this.dataSource.driver as unknown as { master?: PgPool }).master;
    if (!pool) throw new Error('Tasker needs a PostgreSQL DataSource without replication (its driver has no pg pool).');
    return pool;
  }

  async transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(fn);
    } catch (e) {
      throw mapDatabaseError(e);
    }
  }
}
