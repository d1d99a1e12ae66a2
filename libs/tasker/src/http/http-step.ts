import { PermanentError, RetryableError } from '../errors/step.errors';
import { parseRetryAfter } from './retry-after';
import { HTTP_FAILED, HTTP_INVALID_JSON, HTTP_NETWORK_FAILED } from '../tasker.messages';

export interface HttpStepInit extends Omit<RequestInit, 'signal' | 'body'> {
  /** A JSON body: serialized, with `content-type: application/json` unless you set one. */
  json?: unknown;
  body?: RequestInit['body'];
  /** The longest Retry-After honoured (a server asking for more is retried after this). Default 5 minutes. */
  maxRetryAfterMs?: number;
}

export interface HttpStepResponse<T> {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the response says it is JSON, else the text ('' for an empty body). */
  body: T;
}

const BODY_IN_ERROR = 500;

/**
 * Calls an HTTP endpoint from a step with Node's fetch and the step's AbortSignal, and turns the
 * response into what Tasker understands, as the original Tasker's API steps did:
 * 2xx → the parsed body; 429 and 503 → RetryableError after the server's Retry-After (seconds or
 * date, capped), or backoff without one; 408 and 5xx → RetryableError (backoff); any other 4xx →
 * PermanentError (retrying would fail again); a network error → RetryableError. Error codes are
 * `HTTP_<status>` or `HTTP_NETWORK`.
 */
export async function httpStep<T = unknown>(
  ctx: { signal: AbortSignal },
  url: string | URL,
  init: HttpStepInit = {},
): Promise<HttpStepResponse<T>> {
  const { json, maxRetryAfterMs = 5 * 60_000, ...rest } = init;
  const method = (rest.method ?? (json !== undefined ? 'POST' : 'GET')).toUpperCase();
  const headers = new Headers(rest.headers);
  let body = rest.body;
  if (json !== undefined) {
    body = JSON.stringify(json);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const where = `${method} ${String(url)}`;
  let res: Response;
  try {
    res = await fetch(url, { ...rest, method, headers, body, signal: ctx.signal });
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new RetryableError(HTTP_NETWORK_FAILED(where, cause?.code ?? cause?.message ?? (e as Error).message), { code: 'HTTP_NETWORK' });
  }
  const text = await res.text();
  if (res.ok) {
    const isJson = /\bjson\b/i.test(res.headers.get('content-type') ?? '');
    let parsed: unknown = text;
    if (isJson && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new PermanentError(HTTP_INVALID_JSON(where, res.status), { code: 'HTTP_INVALID_JSON' });
      }
    }
    return { status: res.status, headers: Object.fromEntries(res.headers), body: parsed as T };
  }
  const snippet = text.length > BODY_IN_ERROR ? `${text.slice(0, BODY_IN_ERROR)}…` : text;
  const message = HTTP_FAILED(where, res.status, res.statusText, snippet);
  const code = `HTTP_${res.status}`;
  if (res.status === 429 || res.status === 503) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now(), maxRetryAfterMs);
    throw new RetryableError(message, { code, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  if (res.status === 408 || res.status >= 500) throw new RetryableError(message, { code });
  throw new PermanentError(message, { code });
}
