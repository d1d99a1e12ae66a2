// Internals: calls findApiKey (admin/auth/api-keys) under a spy on crypto.timingSafeEqual, to show that keys are compared in constant time.
import { LoggerService } from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import { findApiKey } from '../../libs/tasker/src/admin/auth/api-keys';
import { AdminApp, ALICE, bearer, DASH, startAdminApp, waitForTaskState } from '../support/admin-app';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { deep, fuzzParams, hostileString, hostileValue } from '../support/hostile';
import { LinearWorkflow } from '../fixtures/linear.workflow';

/** Every log line of the app, to check that no key ever reaches a log. */
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

/** A path segment as a client would put it in a URL: percent-encoded, or raw (malformed escapes included). */
const segment = (): fc.Arbitrary<string> =>
  fc.oneof(
    hostileString().map((s) => {
      try {
        return encodeURIComponent(s);
      } catch {
        return '%ED%A0%80'; // a lone surrogate cannot be encoded: its UTF-8 bytes as a client would send them
      }
    }),
    fc.constantFrom('%', '%E0%A4%A', '%00', '%FF', '..%2F..', '%2e%2e', 'a%20b', '1%27', '1;', '1', '999999999999999999999'),
  );
/** Header values Node's HTTP client can send (no control characters). */
const headerValue = (): fc.Arbitrary<string> =>
  fc.oneof(hostileString(), fc.string({ unit: 'binary-ascii', maxLength: 60 })).filter((s) => /^[\x20-\x7e\x80-\xff]*$/.test(s) && s.length < 8_000);
/** A request body as raw text: JSON of anything, broken JSON, huge or deeply nested. */
const body = (): fc.Arbitrary<string> =>
  fc.oneof(
    hostileValue().map((v) => {
      try {
        return JSON.stringify(v) ?? 'undefined';
      } catch {
        return String(typeof v);
      }
    }),
    fc.constantFrom('{', '[', '{"a":', 'nul', '"\\ud800"', '{"context":{"s":"\\u0000"}}', '{"__proto__":{"admin":true}}', `${'['.repeat(20_000)}${']'.repeat(20_000)}`),
    fc.integer({ min: 65, max: 500 }).map((d) => JSON.stringify({ name: 'linear', namespace: 'scenarios', context: deep(d) })),
    fc.record({ name: fc.constant('linear'), namespace: fc.constant('scenarios'), context: fc.constant({ x: 1 }), reason: hostileString(), tags: fc.array(hostileString(), { maxLength: 3 }) }).map((r) =>
      JSON.stringify(r),
    ),
  );

/**
 * The admin API given hostile input (fast-check, fixed seed: FUZZ_SEED reproduces a run):
 * always a clear 4xx in the one error shape, never a 500, never an injected query; and every
 * non-health route refuses missing, malformed, wrong and (for actions) viewer keys, without
 * ever writing a key to a body or a log.
 */
describe('admin API under hostile input', () => {
  const schema = uniqueSchema('hostile_adm');
  const logger = new CapturingLogger();
  const texts: string[] = [];
  let a: AdminApp;
  let taskId: string;

  beforeAll(async () => {
    a = await startAdminApp(schema, [LinearWorkflow], { logger, tasker: { logging: true } });
    taskId = (await a.post('/tasker/tasks', { name: 'linear', namespace: 'scenarios', context: { x: 2 } })).body.id;
    await waitForTaskState(a, taskId, 'complete');
    await withClient((c) => c.query(`CREATE TABLE "${schema}".canary (v text); INSERT INTO "${schema}".canary VALUES ('alive')`));
  });
  afterAll(async () => {
    await a?.close();
    await dropSchema(schema);
  });

  /** A 2xx, or a 4xx in the error shape of SPEC §6 with a message; never a 5xx. */
  function expectClearAnswer(res: request.Response, what: string): void {
    texts.push(res.text);
    if (res.status >= 500 || (res.status >= 400 && !(res.body?.statusCode === res.status && typeof res.body?.message === 'string' && res.body.message.length > 0))) {
      throw new Error(`${what.slice(0, 150)} → ${res.status} ${res.headers['content-type']} ${res.text.slice(0, 300)}`);
    }
  }

  it('GET routes with hostile ids, filters and query strings: 2xx or a clear 4xx', async () => {
    const query = fc.oneof(
      fc.dictionary(fc.constantFrom('state', 'namespace', 'name', 'tag', 'limit', 'cursor', 'state[]', 'limit[a]', 'x', '__proto__'), segment(), { maxKeys: 4 }).map(
        (q) =>
          Object.entries(q)
            .map(([k, v]) => `${encodeURIComponent(k)}=${v}`)
            .join('&'),
      ),
      segment(),
    );
    const path = fc.oneof(
      query.map((q) => `/tasker/tasks?${q}`),
      query.map((q) => `/tasker/handlers?${q}`),
      fc.tuple(segment(), fc.constantFrom('', '/audit', '/graph')).map(([id, tail]) => `/tasker/tasks/${id}${tail}`),
      segment().map((e) => `/tasker/tasks/${taskId}/graph?expand=${e}`),
      fc.constantFrom('/tasker/workers', '/tasker/me', '/tasker/metrics', `/tasker/tasks/${'9'.repeat(30)}`),
    );
    await fc.assert(
      fc.asyncProperty(path, async (p) => {
        expectClearAnswer(await a.get(p, DASH), `GET ${p}`);
      }),
      fuzzParams(200),
    );
  });

  it('POST routes with hostile bodies, ids and step names: 2xx or a clear 4xx', async () => {
    const route = fc.oneof(
      fc.constant('/tasker/tasks'),
      fc.tuple(fc.oneof(fc.constant(() => taskId), segment().map((s) => () => s)), fc.constantFrom('retry', 'cancel')).map(([id, action]) => () => `/tasker/tasks/${id()}/${action}`),
      fc.tuple(fc.oneof(fc.constant(() => taskId), segment().map((s) => () => s)), fc.oneof(fc.constant('step_1'), segment())).map(
        ([id, step]) =>
          () =>
            `/tasker/tasks/${id()}/steps/${step}/resolve`,
      ),
      fc.tuple(fc.oneof(fc.constant(() => taskId), segment().map((s) => () => s)), fc.oneof(fc.constant('approved'), segment())).map(
        ([id, name]) =>
          () =>
            `/tasker/tasks/${id()}/signals/${name}`,
      ),
    );
    await fc.assert(
      fc.asyncProperty(route, body(), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'), async (r, b, type) => {
        const p = typeof r === 'function' ? r() : r;
        const res = await a.http().post(p).set('Authorization', bearer(ALICE)).set('Content-Type', type).send(b);
        expectClearAnswer(res, `POST ${p} ${type} ${b.slice(0, 200)}`);
      }),
      fuzzParams(200),
    );
  });

  it('auth: every non-health route refuses missing, malformed, wrong and viewer keys for actions (401/403), whatever the header', async () => {
    const routes: [string, string][] = [
      ['GET', '/tasker/tasks'],
      ['GET', `/tasker/tasks/${taskId}`],
      ['GET', `/tasker/tasks/${taskId}/audit`],
      ['GET', `/tasker/tasks/${taskId}/graph`],
      ['GET', '/tasker/handlers'],
      ['GET', '/tasker/workers'],
      ['GET', '/tasker/me'],
      ['GET', '/tasker/metrics'],
      ['POST', '/tasker/tasks'],
      ['POST', `/tasker/tasks/${taskId}/retry`],
      ['POST', `/tasker/tasks/${taskId}/cancel`],
      ['POST', `/tasker/tasks/${taskId}/steps/step_1/resolve`],
      ['POST', `/tasker/tasks/${taskId}/signals/approved`],
    ];
    const near = (secret: string) =>
      fc.oneof(
        fc.nat({ max: secret.length - 1 }).map((i) => secret.slice(0, i) + String.fromCharCode(secret.charCodeAt(i) ^ 1) + secret.slice(i + 1)),
        fc.constantFrom(secret.slice(0, -1), `${secret}x`, secret.toUpperCase(), ` ${secret}`, `${secret}${secret}`),
      );
    const authorization = fc.oneof(
      fc.constant(undefined),
      headerValue(),
      headerValue().map((v) => `Bearer ${v}`),
      fc.oneof(near(ALICE.secret), near(DASH.secret)).map((s) => `Bearer ${s}`),
      fc.constantFrom(ALICE.secret, `Basic ${ALICE.secret}`, `Bearer  ${ALICE.secret}`, `Token ${ALICE.secret}`, `Bearer ${ALICE.secret} x`),
    );
    const before = (await withClient((c) => c.query(`SELECT count(*)::int AS n FROM "${schema}".transitions WHERE kind = 'task'`))).rows[0].n;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), authorization, async ([method, path], auth) => {
        let r = method === 'GET' ? a.http().get(path) : a.http().post(path).send({ reason: 'fuzz' });
        if (auth !== undefined) r = r.set('Authorization', auth);
        const res = await r;
        texts.push(res.text);
        expect([401, 403]).toContain(res.status);
        expect(res.body.statusCode).toBe(res.status);
      }),
      fuzzParams(300),
    );
    // The viewer may read, never act.
    for (const [method, path] of routes) {
      const res = method === 'GET' ? await a.get(path, DASH) : await a.post(path, { reason: 'viewer' }, DASH);
      texts.push(res.text);
      expect(res.status).toBe(method === 'GET' ? 200 : 403);
    }
    // No refused request changed anything.
    expect((await withClient((c) => c.query(`SELECT count(*)::int AS n FROM "${schema}".transitions WHERE kind = 'task'`))).rows[0].n).toBe(before);
  });

  it('API keys are compared in constant time: every key, hashed to equal lengths, whatever is presented', () => {
    // The module object itself (not an interop copy), so that api-keys.ts's calls go through the spy.
    const spy = jest.spyOn(require('node:crypto') as typeof import('node:crypto'), 'timingSafeEqual');
    try {
      fc.assert(
        fc.property(fc.oneof(hostileString(), fc.constantFrom(ALICE.secret, DASH.secret)), (presented) => {
          spy.mockClear();
          const found = findApiKey([ALICE, DASH], presented);
          expect(found?.secret ?? null).toBe([ALICE.secret, DASH.secret].includes(presented) ? presented : null);
          // No early exit on a match or a length difference: one comparison per key, of equal-length digests.
          expect(spy).toHaveBeenCalledTimes(2);
          for (const [x, y] of spy.mock.calls as [Buffer, Buffer][]) expect([x.length, y.length]).toEqual([32, 32]);
        }),
        fuzzParams(300),
      );
    } finally {
      spy.mockRestore();
    }
  });

  it('nothing reached the database as SQL, and no key appears in any response or log line', async () => {
    await withClient(async (c) => {
      expect((await c.query(`SELECT v FROM "${schema}".canary`)).rows).toEqual([{ v: 'alive' }]);
    });
    expect(texts.length).toBeGreaterThan(500);
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const secret of [ALICE.secret, DASH.secret]) {
      expect(texts.filter((t) => t.includes(secret))).toEqual([]);
      expect(logger.lines.filter((l) => l.includes(secret))).toEqual([]);
    }
  });
});
