import { LoggerService } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TaskerModule } from 'nestjs-tasker';
import { TaskerAdminModule } from 'nestjs-tasker/admin';
import request from 'supertest';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { AdminApp, ALICE, DASH, expectError, startAdminApp, waitForTaskState } from '../support/admin-app';
import { dropSchema, uniqueSchema } from '../support/database';
import { testOptions } from '../support/tasker-app';

const MISSING = 'Missing or malformed Authorization header: send "Authorization: Bearer <api key>".';
const INVALID = 'Invalid API key.';
const VIEWER = 'API key "dash" has the viewer role; this action needs an operator key.';
const WRONG_SECRET = 'wrong-secret-0123456789';

/** Every log line the app writes, to check that no secret ever reaches a log. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private add = (...args: unknown[]) => void this.lines.push(args.map((x) => (x instanceof Error ? `${x.message} ${x.stack}` : String(x))).join(' '));
  log = this.add;
  error = this.add;
  warn = this.add;
  debug = this.add;
  verbose = this.add;
  fatal = this.add;
}

/** API keys over HTTP: 401 without valid credentials, 403 for a viewer acting, roles, open health, and secrets kept out of bodies and logs. */
describe('admin API: authentication and roles', () => {
  const schema = uniqueSchema('adm_auth');
  const logger = new CapturingLogger();
  const texts: string[] = [];
  let a: AdminApp;
  let taskId: string;

  beforeAll(async () => {
    a = await startAdminApp(schema, [LinearWorkflow], { logger, tasker: { logging: true } });
    taskId = (await a.post('/tasker/tasks', { name: 'linear', namespace: 'scenarios', context: { x: 2 } })).body.id;
    await waitForTaskState(a, taskId, 'complete');
  });
  afterAll(async () => {
    await a?.close();
    await dropSchema(schema);
  });

  /** Every protected route, with a body that would be valid for the POSTs. */
  const routes = (): [string, string, object?][] => [
    ['GET', '/tasker/tasks'],
    ['GET', `/tasker/tasks/${taskId}`],
    ['GET', `/tasker/tasks/${taskId}/audit`],
    ['GET', `/tasker/tasks/${taskId}/graph`],
    ['GET', '/tasker/handlers'],
    ['GET', '/tasker/workers'],
    ['GET', '/tasker/me'],
    ['GET', '/tasker/metrics'],
    ['POST', '/tasker/tasks', { name: 'linear', namespace: 'scenarios', context: { x: 1 } }],
    ['POST', `/tasker/tasks/${taskId}/retry`, { reason: 'r' }],
    ['POST', `/tasker/tasks/${taskId}/cancel`, { reason: 'r' }],
    ['POST', `/tasker/tasks/${taskId}/steps/step_1/resolve`, { results: 1 }],
    ['POST', `/tasker/tasks/${taskId}/signals/approved`, { payload: { ok: true }, reason: 'r' }],
  ];
  const call = async (method: string, path: string, body: object | undefined, authorization?: string) => {
    let r = method === 'GET' ? a.http().get(path) : a.http().post(path);
    if (authorization !== undefined) r = r.set('Authorization', authorization);
    const res = await (body ? r.send(body) : r);
    texts.push(res.text);
    return res;
  };
  const taskCount = async () => (await a.get('/tasker/tasks?limit=500')).body.items.length as number;

  it('401 on every route without an Authorization header', async () => {
    for (const [method, path, body] of routes()) expectError(await call(method, path, body), 401, MISSING);
  });

  it('401 on every route with a wrong key', async () => {
    for (const [method, path, body] of routes()) expectError(await call(method, path, body, `Bearer ${WRONG_SECRET}`), 401, INVALID);
  });

  it('401 for malformed headers: another scheme, no token, spaces in the token, the bare secret, an oversized token', async () => {
    const malformed = [`Basic ${ALICE.secret}`, 'Bearer', 'Bearer ', `Bearer ${ALICE.secret} extra`, ALICE.secret, `Token ${ALICE.secret}`, `Bearer ${'x'.repeat(513)}`];
    for (const h of malformed) expectError(await call('GET', '/tasker/tasks', undefined, h), 401, MISSING);
    // A secret that is a prefix or extension of a real one is just a wrong key.
    expectError(await call('GET', '/tasker/tasks', undefined, `Bearer ${ALICE.secret.slice(0, -1)}`), 401, INVALID);
    expectError(await call('GET', '/tasker/tasks', undefined, `Bearer ${ALICE.secret}0`), 401, INVALID);
  });

  it('authentication comes before validation: a bad body without a key is a 401, not a 400', async () => {
    expectError(await call('POST', '/tasker/tasks', { colour: 'red' }), 401, MISSING);
    expectError(await call('GET', '/tasker/tasks?limit=0', undefined, `Bearer ${WRONG_SECRET}`), 401, INVALID);
  });

  it('a viewer reads every GET route', async () => {
    for (const [method, path] of routes().filter(([m]) => m === 'GET')) {
      const res = await call(method, path, undefined, `Bearer ${DASH.secret}`);
      expect([path, res.status]).toEqual([path, 200]);
    }
    expect((await call('GET', '/tasker/me', undefined, `Bearer ${DASH.secret}`)).body).toEqual({ name: 'dash', role: 'viewer' });
  });

  it('403 for a viewer on every operator action, and nothing changes', async () => {
    const before = await taskCount();
    for (const [method, path, body] of routes().filter(([m]) => m === 'POST')) {
      expectError(await call(method, path, body, `Bearer ${DASH.secret}`), 403, VIEWER);
    }
    expect(await taskCount()).toBe(before);
    const trail = (await a.get(`/tasker/tasks/${taskId}/audit`)).body as { actor?: string }[];
    expect(trail.some((e) => e.actor === 'dash')).toBe(false);
  });

  it('an operator acts; the Bearer scheme is case-insensitive', async () => {
    const res = await call('POST', '/tasker/tasks', { name: 'linear', namespace: 'scenarios', context: { x: 3 } }, `bearer ${ALICE.secret}`);
    expect(res.status).toBe(201);
    expect(res.body.initiator).toBe('alice');
    expect((await call('GET', '/tasker/me', undefined, `BEARER ${ALICE.secret}`)).body).toEqual({ name: 'alice', role: 'operator' });
  });

  it('health probes and the API docs are open', async () => {
    expect((await request(a.server).get('/tasker/health/live')).status).toBe(200);
    expect((await request(a.server).get('/tasker/health/ready')).status).toBe(200);
    expect((await request(a.server).get('/tasker/docs-json')).status).toBe(200);
  });

  it('no secret ever appears in a response body or a log line', async () => {
    expect(texts.length).toBeGreaterThan(40);
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const secret of [ALICE.secret, DASH.secret, WRONG_SECRET]) {
      expect(texts.filter((t) => t.includes(secret))).toEqual([]);
      expect(logger.lines.filter((l) => l.includes(secret))).toEqual([]);
    }
  });
});

describe('admin API: where keys come from', () => {
  const schema = uniqueSchema('adm_keys');
  const saved = { keys: process.env.TASKER_API_KEYS, insecure: process.env.TASKER_INSECURE };
  const apps: AdminApp[] = [];

  beforeEach(() => {
    delete process.env.TASKER_API_KEYS;
    delete process.env.TASKER_INSECURE;
  });
  afterEach(() => {
    for (const [k, v] of [['TASKER_API_KEYS', saved.keys], ['TASKER_INSECURE', saved.insecure]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await dropSchema(schema);
  });

  const apiOnly = { worker: { enabled: false } };

  it('refuses to start without keys, saying what to set', async () => {
    const boot = Test.createTestingModule({
      imports: [EventEmitterModule.forRoot(), ScheduleModule.forRoot(), TaskerModule.forRoot(testOptions(schema, apiOnly)), TaskerAdminModule.forRoot()],
    }).compile();
    await expect(boot).rejects.toThrow(
      'The Tasker admin API has no API keys. Set TASKER_API_KEYS="name:operator:<secret>,name:viewer:<secret>" ' +
        '(or apiKeys in TaskerAdminModule.forRoot), or TASKER_INSECURE=true for local development only.',
    );
  });

  it('refuses to start with a bad key, without quoting its secret', async () => {
    const boot = startAdminApp(schema, [], { tasker: apiOnly, admin: { apiKeys: 'ops:operator:tooShort-secret' } });
    await expect(boot).rejects.toThrow('API key 1 ("ops"): the secret must be at least 16 characters.');
    await expect(startAdminApp(schema, [], { tasker: apiOnly, admin: { apiKeys: 'ops:operator:tooShort-secret' } })).rejects.not.toThrow('tooShort-secret');
  });

  it('reads TASKER_API_KEYS from the environment', async () => {
    process.env.TASKER_API_KEYS = `ops:operator:${ALICE.secret},watch:viewer:${DASH.secret}`;
    const app = await startAdminApp(schema, [], { tasker: apiOnly, admin: { apiKeys: undefined } });
    apps.push(app);
    expect((await app.get('/tasker/me', DASH)).body).toEqual({ name: 'watch', role: 'viewer' });
    expect((await app.get('/tasker/me', ALICE)).body).toEqual({ name: 'ops', role: 'operator' });
  });

  it('TASKER_INSECURE=true serves without keys; every caller is the operator "anonymous", recorded as the actor', async () => {
    process.env.TASKER_INSECURE = 'true';
    const app = await startAdminApp(schema, [LinearWorkflow], { admin: { apiKeys: undefined } });
    apps.push(app);
    expect((await app.http().get('/tasker/me')).body).toEqual({ name: 'anonymous', role: 'operator' });
    const created = await app.http().post('/tasker/tasks').send({ name: 'linear', namespace: 'scenarios', context: { x: 2 } });
    expect(created.status).toBe(201);
    expect(created.body.initiator).toBe('anonymous');
    await waitForTaskState(app, created.body.id, 'complete');
    const trail = (await app.http().get(`/tasker/tasks/${created.body.id}/audit`)).body as { actor?: string }[];
    expect(trail[0].actor).toBe('anonymous');
  });
});
