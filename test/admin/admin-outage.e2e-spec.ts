import { createServer, Server, Socket } from 'node:net';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { AdminApp, DASH, expectError, startAdminApp } from '../support/admin-app';
import { databaseUrl, dropSchema, uniqueSchema } from '../support/database';
import { waitFor } from '../support/wait';

/** A TCP relay to Postgres that can go down (connections cut, new ones refused) and come back on the same port. */
class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  isUp = false;

  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    this.isUp = true;
  }

  async down(): Promise<void> {
    this.isUp = false;
    const closed = new Promise((r) => this.server!.close(r));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

/** A database outage is the server's trouble, not the request's: 503 in the error shape, never a 500 or a 400. */
describe('admin API: database outage', () => {
  const schema = uniqueSchema('adm_outage');
  const target = new URL(databaseUrl());
  const relay = new Relay({ host: target.hostname, port: Number(target.port || 5432) });
  let a: AdminApp;
  let taskId: string;

  beforeAll(async () => {
    await relay.up();
    const url = new URL(databaseUrl());
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    a = await startAdminApp(schema, [LinearWorkflow], { tasker: { databaseUrl: url.toString(), worker: { enabled: false } } });
    taskId = (await a.tasker.createTask({ name: 'linear', namespace: 'scenarios', context: { x: 1 } })).id;
  });
  afterAll(async () => {
    if (!relay.isUp) await relay.up();
    await a?.close();
    await relay.down();
    await dropSchema(schema);
  });

  it('answers 503 while Postgres cannot be reached, and 200 again once it can', async () => {
    expect((await a.get('/tasker/tasks', DASH)).status).toBe(200);
    await relay.down();
    for (const path of ['/tasker/tasks', `/tasker/tasks/${taskId}`, `/tasker/tasks/${taskId}/audit`]) {
      expectError(await a.get(path, DASH), 503, 'The database is unavailable; try again shortly.');
    }
    expectError(await a.post(`/tasker/tasks/${taskId}/cancel`, { reason: 'x' }), 503, 'The database is unavailable; try again shortly.');
    expect((await a.http().get('/tasker/health/ready')).status).toBe(503);
    expect((await a.http().get('/tasker/health/live')).status).toBe(200);
    await relay.up();
    await waitFor('the API to answer again', async () => (await a.get('/tasker/tasks', DASH)).status === 200);
  });
});
