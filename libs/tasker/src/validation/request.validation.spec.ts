import { TaskValidationError } from '../errors/service.errors';
import {
  actorProblems,
  assertValidRequest,
  encodeCursor,
  isTaskId,
  jsonProblems,
  LIMITS,
  normalizeQuery,
  requestProblems,
} from './request.validation';

function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) v = { n: v };
  return v;
}

function validationError(fn: () => unknown): TaskValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TaskValidationError);
    return e as TaskValidationError;
  }
  throw new Error('expected a TaskValidationError');
}

describe('requestProblems', () => {
  it('accepts a full valid request', () => {
    expect(
      requestProblems({
        name: 'order',
        namespace: 'shop',
        version: '1.0.0',
        context: { id: 1, items: [{ sku: 'a' }] },
        initiator: 'alice',
        sourceSystem: 'web',
        reason: 'checkout',
        tags: ['eu', 'vip'],
        idempotencyKey: 'order-1',
        runAt: new Date(),
      }),
    ).toEqual([]);
    expect(requestProblems({ name: 'x', runAt: '2030-01-01T00:00:00Z', initiator: null })).toEqual([]);
  });

  it('lists each unknown field', () => {
    expect(requestProblems({ name: 'x', ctx: {}, prio: 1 })).toEqual([
      { field: 'ctx', messages: ['is not a known field'] },
      { field: 'prio', messages: ['is not a known field'] },
    ]);
  });

  it('requires a valid name and checks namespace and version', () => {
    expect(requestProblems({ name: 'a b', namespace: 'x/y', version: '' })).toEqual([
      { field: 'name', messages: ['must be a task name: 1-128 letters, digits, "_", ".", ":" or "-"'] },
      { field: 'namespace', messages: ['must be a namespace: 1-128 letters, digits, "_", ".", ":" or "-"'] },
      { field: 'version', messages: ['must be a version like "1.0.0"'] },
    ]);
    expect(requestProblems({})).toEqual([{ field: 'name', messages: ['must be a task name: 1-128 letters, digits, "_", ".", ":" or "-"'] }]);
  });

  it('refuses a request that is not an object, with the bulk index as field', () => {
    expect(requestProblems(null)).toEqual([{ field: 'request', messages: ['must be an object'] }]);
    expect(requestProblems(['x'])).toEqual([{ field: 'request', messages: ['must be an object'] }]);
    expect(requestProblems('x', '[3].')).toEqual([{ field: '[3]', messages: ['must be an object'] }]);
  });

  it('prefixes fields of a bulk request', () => {
    expect(requestProblems({ name: 'ok', tags: 'eu' }, '[2].')).toEqual([{ field: '[2].tags', messages: ['must be an array of strings'] }]);
  });

  it('requires context to be a JSON object', () => {
    for (const context of [[1, 2], 'text', 5, null, new Date()]) {
      expect(requestProblems({ name: 'x', context })).toEqual([{ field: 'context', messages: ['must be a JSON object'] }]);
    }
  });

  it('refuses context nested deeper than 64 levels, without recursing forever', () => {
    expect(requestProblems({ name: 'x', context: nested(64) })).toEqual([]);
    expect(requestProblems({ name: 'x', context: nested(65) })).toEqual([{ field: 'context', messages: ['must not nest deeper than 64 levels'] }]);
    expect(requestProblems({ name: 'x', context: nested(100_000) })).toEqual([
      { field: 'context', messages: ['must not nest deeper than 64 levels'] },
    ]);
  });

  it('refuses NUL characters in context values and keys (Postgres jsonb cannot store them)', () => {
    const msg = [{ field: 'context', messages: ['must not contain NUL characters (\\u0000)'] }];
    expect(requestProblems({ name: 'x', context: { a: 'x\u0000y' } })).toEqual(msg);
    expect(requestProblems({ name: 'x', context: { ['k\u0000']: 1 } })).toEqual(msg);
    expect(requestProblems({ name: 'x', context: { deep: [{ s: '\u0000' }] } })).toEqual(msg);
  });

  it('accepts text that merely spells a backslash followed by u0000', () => {
    expect(requestProblems({ name: 'x', context: { path: 'C:\\u0000\\dir' } })).toEqual([]);
    expect(requestProblems({ name: 'x', context: { path: '\\\\u0000' } })).toEqual([]);
  });

  it('refuses context that is not JSON-serializable or too large', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(requestProblems({ name: 'x', context: circular })).toEqual([{ field: 'context', messages: ['must not nest deeper than 64 levels'] }]);
    const [big] = requestProblems({ name: 'x', context: { big: 1n } });
    expect(big.field).toBe('context');
    expect(big.messages[0]).toMatch(/^must be JSON-serializable \(.*BigInt/);
    expect(requestProblems({ name: 'x', context: { s: 'a'.repeat(LIMITS.contextBytes) } })).toEqual([
      { field: 'context', messages: [`must be at most ${1024 * 1024} bytes as JSON`] },
    ]);
  });

  it('checks the text fields', () => {
    expect(
      requestProblems({ name: 'x', initiator: 5, sourceSystem: 'a'.repeat(1_001), reason: 'a\u0000', idempotencyKey: 'k'.repeat(256) }),
    ).toEqual([
      { field: 'initiator', messages: ['must be a string'] },
      { field: 'sourceSystem', messages: ['must be at most 1000 characters'] },
      { field: 'reason', messages: ['must not contain NUL characters'] },
      { field: 'idempotencyKey', messages: ['must be at most 255 characters'] },
    ]);
    expect(requestProblems({ name: 'x', idempotencyKey: '' })).toEqual([{ field: 'idempotencyKey', messages: ['must not be empty'] }]);
    expect(requestProblems({ name: 'x', idempotencyKey: 'k'.repeat(255) })).toEqual([]);
  });

  it('limits tags to 50 non-empty strings of at most 100 characters', () => {
    const each = [{ field: 'tags', messages: ['each tag must be a non-empty string of at most 100 characters'] }];
    expect(requestProblems({ name: 'x', tags: Array.from({ length: 50 }, (_, i) => `t${i}`) })).toEqual([]);
    expect(requestProblems({ name: 'x', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) })).toEqual([
      { field: 'tags', messages: ['must have at most 50 tags'] },
    ]);
    expect(requestProblems({ name: 'x', tags: ['a'.repeat(100)] })).toEqual([]);
    expect(requestProblems({ name: 'x', tags: ['a'.repeat(101)] })).toEqual(each);
    expect(requestProblems({ name: 'x', tags: [''] })).toEqual(each);
    expect(requestProblems({ name: 'x', tags: [1] })).toEqual(each);
    expect(requestProblems({ name: 'x', tags: ['a\u0000'] })).toEqual(each);
  });

  it('refuses an invalid runAt', () => {
    const bad = [{ field: 'runAt', messages: ['must be a valid Date (or ISO 8601 string)'] }];
    expect(requestProblems({ name: 'x', runAt: new Date('nope') })).toEqual(bad);
    expect(requestProblems({ name: 'x', runAt: 'tomorrow-ish' })).toEqual(bad);
    expect(requestProblems({ name: 'x', runAt: 1_700_000_000_000 })).toEqual(bad);
    expect(requestProblems({ name: 'x', runAt: {} })).toEqual(bad);
  });
});

describe('runAt range', () => {
  const outOfRange = [{ field: 'runAt', messages: ['must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z (UTC)'] }];
  it('takes the first millisecond of 1970 and the last of year 9999 (UTC)', () => {
    expect(requestProblems({ name: 'x', runAt: new Date('1970-01-01T00:00:00.000Z') })).toEqual([]);
    expect(requestProblems({ name: 'x', runAt: new Date('9999-12-31T23:59:59.999Z') })).toEqual([]);
    expect(requestProblems({ name: 'x', runAt: '9999-12-31T23:59:59.999+00:00' })).toEqual([]);
  });
  it('refuses a date one millisecond outside, or whose UTC time is in another year than its text (an offset)', () => {
    expect(requestProblems({ name: 'x', runAt: new Date('+010000-01-01T00:00:00.000Z') })).toEqual(outOfRange);
    expect(requestProblems({ name: 'x', runAt: new Date('1969-12-31T23:59:59.999Z') })).toEqual(outOfRange);
    expect(requestProblems({ name: 'x', runAt: '9999-12-31T23:59:59-14:00' })).toEqual(outOfRange);
    expect(requestProblems({ name: 'x', runAt: '1970-01-01T00:00:00+01:00' })).toEqual(outOfRange);
    expect(requestProblems({ name: 'x', runAt: new Date(8.64e15) })).toEqual(outOfRange);
    expect(requestProblems({ name: 'x', runAt: new Date(-8.64e15) })).toEqual(outOfRange);
  });
});

describe('assertValidRequest', () => {
  it('throws one TaskValidationError listing every field', () => {
    const err = validationError(() => assertValidRequest({ name: '', tags: 'x', extra: 1 }));
    expect(err.code).toBe('TASK_VALIDATION');
    expect(err.errors.map((e) => e.field)).toEqual(['extra', 'name', 'tags']);
    expect(err.message).toBe(
      'Invalid task request: extra is not a known field; name must be a task name: 1-128 letters, digits, "_", ".", ":" or "-"; tags must be an array of strings',
    );
  });

  it('passes a valid request', () => {
    expect(() => assertValidRequest({ name: 'ok', context: {} })).not.toThrow();
  });
});

describe('normalizeQuery', () => {
  it('defaults the limit to 50', () => {
    expect(normalizeQuery(undefined)).toEqual({ state: undefined, namespace: undefined, name: undefined, tag: undefined, limit: 50, beforeId: undefined });
    expect(normalizeQuery({}).limit).toBe(50);
  });

  it('accepts limits 1..500 and refuses the rest', () => {
    expect(normalizeQuery({ limit: 1 }).limit).toBe(1);
    expect(normalizeQuery({ limit: 500 }).limit).toBe(500);
    for (const limit of [0, 501, -1, 2.5, '10', Number.NaN]) {
      const err = validationError(() => normalizeQuery({ limit } as never));
      expect(err.errors).toEqual([{ field: 'limit', messages: ['must be an integer from 1 to 500'] }]);
    }
  });

  it('round-trips a cursor from encodeCursor', () => {
    const cursor = encodeCursor('12345');
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(normalizeQuery({ cursor }).beforeId).toBe('12345');
    expect(normalizeQuery({ cursor: encodeCursor('9223372036854775807') }).beforeId).toBe('9223372036854775807');
  });

  it('refuses a cursor it did not make', () => {
    for (const cursor of ['garbage', '', encodeCursor('0'), encodeCursor('abc'), Buffer.from('12').toString('base64url'), 'x'.repeat(65)]) {
      const err = validationError(() => normalizeQuery({ cursor }));
      expect(err.errors).toEqual([{ field: 'cursor', messages: ['is not a cursor returned by listTasks'] }]);
    }
  });

  it('checks filters and refuses unknown ones', () => {
    const err = validationError(() => normalizeQuery({ state: 'done', namespace: 'a b', name: '', tag: 5, sort: 'asc' } as never));
    expect(err.errors).toEqual([
      { field: 'sort', messages: ['is not a known filter'] },
      { field: 'state', messages: ['must be one of pending, in_progress, complete, error, cancelled, resolved_manually'] },
      { field: 'namespace', messages: ['must be a namespace name'] },
      { field: 'name', messages: ['must be a task name'] },
      { field: 'tag', messages: ['must be a string'] },
    ]);
    expect(err.message.startsWith('Invalid task query: sort is not a known filter; ')).toBe(true);
  });

  it('passes valid filters through', () => {
    expect(normalizeQuery({ state: 'error', namespace: 'ns', name: 'n', tag: 'eu', limit: 10 })).toEqual({
      state: 'error',
      namespace: 'ns',
      name: 'n',
      tag: 'eu',
      limit: 10,
      beforeId: undefined,
    });
  });
});

describe('isTaskId', () => {
  it('accepts positive 64-bit integers as strings', () => {
    for (const id of ['1', '42', '9223372036854775807']) expect(isTaskId(id)).toBe(true);
  });
  it('refuses everything else', () => {
    for (const id of ['0', '01', '-1', '1.5', '1e3', ' 1', '', 'abc', '9223372036854775808', '99999999999999999999', 1, null, undefined]) {
      expect(isTaskId(id)).toBe(false);
    }
  });
});

describe('jsonProblems and actorProblems', () => {
  it('checks results like context', () => {
    expect(jsonProblems(null, 10)).toEqual([]);
    expect(jsonProblems([1, 2, 3], 100)).toEqual([]);
    expect(jsonProblems('abcdefghijk', 10)).toEqual(['must be at most 10 bytes as JSON']);
  });

  it('checks actor and reason', () => {
    expect(actorProblems(undefined)).toEqual([]);
    expect(actorProblems({ actor: 'ops', reason: 'fixed upstream' })).toEqual([]);
    expect(actorProblems('ops' as never)).toEqual([{ field: 'by', messages: ['must be an object { actor?, reason? }'] }]);
    expect(actorProblems({ actor: 'a'.repeat(201), reason: 3 as never })).toEqual([
      { field: 'actor', messages: ['must be at most 200 characters'] },
      { field: 'reason', messages: ['must be a string'] },
    ]);
  });
});
