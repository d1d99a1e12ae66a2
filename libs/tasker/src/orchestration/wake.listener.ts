import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client, ClientConfig } from 'pg';
import { wakeChannel } from '../persistence/naming';
import type { TaskerConfig } from '../interfaces/tasker-options.interface';
import { TaskerDatabase } from '../persistence/tasker-database';
import { TASKER_CONFIG, TASKER_DATABASE } from '../tasker.constants';
import { WorkSignals } from './work.signals';

/**
 * LISTENs on the schema's channel on a dedicated connection: other processes' new work wakes
 * this worker at once, and cancellations abort running attempts. Reconnects by itself; while
 * disconnected the worker's poll is the fallback.
 */
@Injectable()
export class WakeListener {
  private readonly logger = new Logger('Tasker');
  private client?: Client;
  private stopped = true;
  private retryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;

  constructor(
    @Inject(TASKER_DATABASE) private readonly db: TaskerDatabase,
    @Inject(TASKER_CONFIG) private readonly config: TaskerConfig,
    private readonly signals: WorkSignals,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const c = this.client;
    this.client = undefined;
    this.signals.listening = false;
    if (c) await c.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client(this.clientConfig());
    client.on('error', () => undefined); // reported through 'end' below
    client.on('notification', (msg) => this.signals.notification(msg.payload ?? ''));
    client.on('end', () => {
      clearInterval(this.pingTimer);
      if (this.client === client) {
        this.client = undefined;
        this.signals.listening = false;
      }
      if (!this.stopped) this.retryTimer = setTimeout(() => void this.connect(), 1_000);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${wakeChannel(this.config.schema).replace(/"/g, '""')}"`);
      if (this.stopped) {
        await client.end();
        return;
      }
      this.client = client;
      this.signals.listening = true;
      this.watch(client);
      this.signals.work(); // work may have arrived while we were not listening
    } catch (e) {
      this.logger.warn(`LISTEN connection failed (${(e as Error).message}); polling meanwhile.`);
      await client.end().catch(() => undefined);
    }
  }

  /**
   * A LISTEN connection that goes silent (no reset, no error: a lost route, a stuck proxy) would
   * never deliver another notification, and cancellations would no longer reach running steps. So
   * every statementTimeoutMs it must answer a SELECT 1 within statementTimeoutMs, or its socket is
   * destroyed: 'end' reconnects.
   */
  private watch(client: Client): void {
    const every = this.config.statementTimeoutMs;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      const timer = setTimeout(() => (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy(), every);
      client.query('SELECT 1').then(
        () => clearTimeout(timer),
        () => clearTimeout(timer), // an error ends the connection by itself
      );
    }, every);
  }

  /** The same server as Tasker's DataSource, on a connection of its own. */
  private clientConfig(): ClientConfig {
    const o = this.db.dataSource.options as Record<string, any>;
    if (o.url) return { connectionString: o.url, ssl: o.ssl };
    return { host: o.host, port: o.port, user: o.username, password: o.password, database: o.database, ssl: o.ssl };
  }
}
