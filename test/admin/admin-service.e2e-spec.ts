import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { databaseUrl, dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';

const ROOT = join(__dirname, '..', '..');
const OPS_SECRET = 'ops-secret-0123456789abcdef';
const VIEW_SECRET = 'view-secret-0123456789abcdef';

interface Service {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Runs the admin microservice (src/main.ts) as its own process, configured only by environment. */
function runService(env: Record<string, string>): Service {
  const base = { ...process.env };
  delete base.TASKER_API_KEYS;
  delete base.TASKER_INSECURE;
  delete base.PORT;
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** The admin microservice as operations run it: its own process, real HTTP, API-only, keys from TASKER_API_KEYS. */
describe('admin microservice process', () => {
  const schema = uniqueSchema('adm_svc');
  let worker: TestApp;
  let service: Service | undefined;
  let base: string;

  beforeAll(async () => {
    // A worker process with the workflow's code; the service knows the task type only from the database.
    worker = await startApp(schema, [LinearWorkflow]);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    service = runService({
      DATABASE_URL: databaseUrl(),
      TASKER_SCHEMA: schema,
      PORT: String(port),
      TASKER_API_KEYS: `ops:operator:${OPS_SECRET},board:viewer:${VIEW_SECRET}`,
    });
    await waitFor(
      'the service to answer /tasker/health/ready',
      async () => {
        if (service!.child.exitCode !== null) throw new Error(`service exited: ${service!.output()}`);
        return (await fetch(`${base}/tasker/health/ready`)).status === 200;
      },
      { timeoutMs: 45_000, intervalMs: 100 },
    );
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await worker?.close();
    await dropSchema(schema);
  });

  const call = (path: string, secret?: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { ...(secret ? { Authorization: `Bearer ${secret}` } : {}), 'Content-Type': 'application/json', ...init.headers } });

  it('is ready over real HTTP, with the health body of terminus', async () => {
    const res = await call('/tasker/health/ready');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ status: 'ok', info: { database: { status: 'up' } }, error: {}, details: { database: { status: 'up' } } });
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('serves the handlers recorded by another process to a key from TASKER_API_KEYS, and refuses without one', async () => {
    const res = await call('/tasker/handlers', VIEW_SECRET);
    expect(res.status).toBe(200);
    const types = (await res.json()) as { namespace: string; name: string; version: string; steps: { name: string }[] }[];
    expect(types.map((t) => [t.namespace, t.name, t.version, t.steps.map((s) => s.name)])).toEqual([
      ['scenarios', 'linear', '1.0.0', ['step_1', 'step_2', 'step_3', 'step_4']],
    ]);
    const anonymous = await call('/tasker/handlers');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Missing or malformed Authorization header: send "Authorization: Bearer <api key>".' });
  });

  it('creates a task that a worker elsewhere runs; the operator is the initiator; the viewer may not create', async () => {
    const body = JSON.stringify({ name: 'linear', namespace: 'scenarios', context: { x: 6 } });
    const refused = await call('/tasker/tasks', VIEW_SECRET, { method: 'POST', body });
    expect(refused.status).toBe(403);
    const created = await call('/tasker/tasks', OPS_SECRET, { method: 'POST', body });
    expect(created.status).toBe(201);
    const task = (await created.json()) as { id: string; initiator: string };
    expect(task.initiator).toBe('ops');
    const done = await waitFor('the task to complete', async () => {
      const d = (await (await call(`/tasker/tasks/${task.id}`, VIEW_SECRET)).json()) as { state: string; steps: { results: unknown }[] };
      return d.state === 'complete' ? d : undefined;
    });
    expect(done.steps.map((s) => s.results)).toEqual([36, 46, 138, 69]);
  });

  it('answers 413 in the error shape for a body over 1 MB', async () => {
    const res = await call('/tasker/tasks', OPS_SECRET, { method: 'POST', body: JSON.stringify({ name: 'linear', context: { blob: 'a'.repeat(1_100_000) } }) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'Request body is larger than the 1048576 bytes allowed.' });
  });

  it('never writes a key to its output', () => {
    expect(service!.output()).toContain('Tasker admin service on http://localhost:');
    expect(service!.output()).not.toContain(OPS_SECRET);
    expect(service!.output()).not.toContain(VIEW_SECRET);
  });

  it('refuses to start without TASKER_API_KEYS (and without TASKER_INSECURE): exit code 1 and a message saying what to set', async () => {
    const port = await freePort();
    const bad = runService({ DATABASE_URL: databaseUrl(), TASKER_SCHEMA: schema, PORT: String(port) });
    try {
      const code = await bad.exited;
      expect(code).toBe(1);
      expect(bad.output()).toContain('The Tasker admin API has no API keys. Set TASKER_API_KEYS="name:operator:<secret>,name:viewer:<secret>"');
      expect(bad.output()).not.toContain('Tasker admin service on');
    } finally {
      if (bad.child.exitCode === null) bad.child.kill('SIGKILL');
    }
  });
});
