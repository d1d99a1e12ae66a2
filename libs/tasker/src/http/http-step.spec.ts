import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { PermanentError, RetryableError } from '../errors/step.errors';
import { httpStep } from './http-step';
import { parseRetryAfter } from './retry-after';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('httpStep', () => {
  let server: Server;
  let base: string;
  let handler: Handler = (_q, res) => res.end();
  const ctx = () => ({ signal: new AbortController().signal });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => handler(req, res, body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const reply = (status: number, body = '', headers: Record<string, string> = {}) => {
    handler = (_q, res) => {
      res.writeHead(status, headers);
      res.end(body);
    };
  };
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as RetryableError | PermanentError;
    }
    throw new Error('expected httpStep to throw');
  };

  it('returns parsed JSON of a 2xx and sends a JSON body', async () => {
    handler = (req, res, body) => {
      res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'x-id': '7' });
      res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], got: JSON.parse(body) }));
    };
    const r = await httpStep<{ method: string; type: string; got: unknown }>(ctx(), `${base}/pay`, { json: { amount: 5 } });
    expect(r.status).toBe(201);
    expect(r.headers['x-id']).toBe('7');
    expect(r.body).toEqual({ method: 'POST', type: 'application/json', got: { amount: 5 } });
  });

  it('returns text when the response is not JSON', async () => {
    reply(200, 'pong', { 'content-type': 'text/plain' });
    expect((await httpStep(ctx(), `${base}/ping`)).body).toBe('pong');
  });

  it('429 with Retry-After seconds is retryable after exactly that delay', async () => {
    reply(429, 'slow down', { 'retry-after': '7' });
    const e = await failure(httpStep(ctx(), `${base}/x`));
    expect(e).toBeInstanceOf(RetryableError);
    expect(e).toMatchObject({ code: 'HTTP_429', retryAfterMs: 7000 });
    expect(e.message).toBe(`GET ${base}/x answered 429 Too Many Requests: slow down`);
  });

  it('503 with a Retry-After date far away is capped', async () => {
    reply(503, '', { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() });
    const e = await failure(httpStep(ctx(), `${base}/x`, { maxRetryAfterMs: 60_000 }));
    expect(e).toMatchObject({ code: 'HTTP_503', retryAfterMs: 60_000 });
  });

  it('429 without Retry-After retries with backoff (no fixed delay)', async () => {
    reply(429);
    const e = (await failure(httpStep(ctx(), `${base}/x`))) as RetryableError;
    expect(e).toBeInstanceOf(RetryableError);
    expect(e.retryAfterMs).toBeUndefined();
  });

  it.each([400, 401, 403, 404, 409, 422])('%i is permanent', async (status) => {
    reply(status, '{"error":"no"}');
    const e = await failure(httpStep(ctx(), `${base}/x`, { method: 'put', json: {} }));
    expect(e).toBeInstanceOf(PermanentError);
    expect(e.code).toBe(`HTTP_${status}`);
    expect(e.message).toContain(`PUT ${base}/x answered ${status}`);
  });

  it.each([408, 500, 502, 504])('%i is retryable with backoff', async (status) => {
    reply(status);
    const e = await failure(httpStep(ctx(), `${base}/x`));
    expect(e).toBeInstanceOf(RetryableError);
    expect(e).toMatchObject({ code: `HTTP_${status}` });
  });

  it('a refused connection is retryable', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const e = await failure(httpStep(ctx(), `http://127.0.0.1:${port}/`));
    expect(e).toBeInstanceOf(RetryableError);
    expect(e.code).toBe('HTTP_NETWORK');
    expect(e.message).toContain('ECONNREFUSED');
  });

  it("aborting the step's signal aborts the call with the signal's reason", async () => {
    handler = () => undefined; // never answers
    const controller = new AbortController();
    const call = httpStep({ signal: controller.signal }, `${base}/hang`);
    const reason = new Error('step timed out');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
  });

  it('invalid JSON in a 2xx that claims JSON is a permanent error', async () => {
    reply(200, '{nope', { 'content-type': 'application/json' });
    const e = await failure(httpStep(ctx(), `${base}/x`));
    expect(e).toBeInstanceOf(PermanentError);
    expect(e.code).toBe('HTTP_INVALID_JSON');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds and dates, caps, and ignores garbage', () => {
    expect(parseRetryAfter('120', now, 1e9)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now, 1e9)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now, 1e9)).toBe(0);
    expect(parseRetryAfter('999999', now, 60_000)).toBe(60_000);
    expect(parseRetryAfter('soon', now, 1e9)).toBeUndefined();
    expect(parseRetryAfter(null, now, 1e9)).toBeUndefined();
    expect(parseRetryAfter('-5', now, 1e9)).toBeUndefined();
  });
});
