import { TaskValidationError } from '../errors/service.errors';
import { PermanentError, RetryableError, StepTimeoutError } from '../errors/step.errors';
import { retryTimeFor, serializeError, AttemptInfo } from './outcome';

describe('serializeError', () => {
  it('keeps name, message and stack of an Error', () => {
    const err = new TypeError('bad input');
    const s = serializeError(err);
    expect(s).toEqual({ name: 'TypeError', message: 'bad input', stack: err.stack });
    expect(s.code).toBeUndefined();
  });

  it('takes the code of a TaskerError', () => {
    expect(serializeError(new PermanentError('card declined', { code: 'CARD_DECLINED' }))).toMatchObject({
      name: 'PermanentError',
      message: 'card declined',
      code: 'CARD_DECLINED',
    });
    expect(serializeError(new PermanentError('nope')).code).toBe('PERMANENT');
    expect(serializeError(new RetryableError('later')).code).toBe('RETRYABLE');
    expect(serializeError(new StepTimeoutError(250))).toMatchObject({
      name: 'StepTimeoutError',
      message: 'Step timed out after 250 ms.',
      code: 'STEP_TIMEOUT',
    });
    expect(serializeError(new TaskValidationError('x', [])).code).toBe('TASK_VALIDATION');
  });

  it('takes a string or numeric code of a plain Error (e.g. Node system errors) and ignores others', () => {
    const sys = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(serializeError(sys).code).toBe('ECONNREFUSED');
    expect(serializeError(Object.assign(new Error('x'), { code: 42 })).code).toBe('42');
    expect(serializeError(Object.assign(new Error('x'), { code: { nested: true } })).code).toBeUndefined();
  });

  it('names an Error without a name "Error"', () => {
    const err = new Error('anonymous');
    err.name = '';
    expect(serializeError(err).name).toBe('Error');
  });

  it('turns thrown strings, numbers, null and undefined into NonErrorThrown', () => {
    expect(serializeError('boom')).toEqual({ name: 'NonErrorThrown', message: 'A step threw a non-Error value: "boom"' });
    expect(serializeError(42)).toEqual({ name: 'NonErrorThrown', message: 'A step threw a non-Error value: 42' });
    expect(serializeError(null)).toEqual({ name: 'NonErrorThrown', message: 'A step threw a non-Error value: null' });
    expect(serializeError(undefined)).toEqual({ name: 'NonErrorThrown', message: 'A step threw a non-Error value: undefined' });
    expect(serializeError({ reason: 'x' })).toEqual({ name: 'NonErrorThrown', message: 'A step threw a non-Error value: {"reason":"x"}' });
  });

  it('survives circular objects and BigInts', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    expect(serializeError(circular)).toEqual({ name: 'NonErrorThrown', message: 'A step threw a non-Error value: [object Object]' });
    expect(serializeError(10n)).toEqual({ name: 'NonErrorThrown', message: 'A step threw a non-Error value: 10' });
  });

  it('truncates a huge message and says how much was cut', () => {
    const s = serializeError(new Error('x'.repeat(10_050)));
    expect(s.message).toBe(`${'x'.repeat(10_000)}… (50 more characters)`);
  });

  it('produces JSON-storable output', () => {
    const s = serializeError(new PermanentError('p', { code: 'C' }));
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('retryTimeFor', () => {
  const now = Date.UTC(2030, 0, 1);
  const info = (over: Partial<AttemptInfo> = {}): AttemptInfo => ({
    attempt: 1,
    retryLimit: 3,
    retryable: true,
    backoff: { baseMs: 1_000, maxMs: 60_000, jitter: 0.5 },
    ...over,
  });

  it('never retries a PermanentError, even with attempts left', () => {
    expect(retryTimeFor(new PermanentError('no'), info({ retryLimit: 10 }), now)).toBeNull();
  });

  it('never retries a step declared retryable: false', () => {
    expect(retryTimeFor(new Error('x'), info({ retryable: false, retryLimit: 5 }), now)).toBeNull();
    expect(retryTimeFor(new RetryableError('x', { retryAfterMs: 10 }), info({ retryable: false }), now)).toBeNull();
  });

  it('does not retry after the last attempt', () => {
    expect(retryTimeFor(new Error('x'), info({ attempt: 3, retryLimit: 3 }), now)).toBeNull();
    expect(retryTimeFor(new RetryableError('x', { retryAfterMs: 5 }), info({ attempt: 3, retryLimit: 3 }), now)).toBeNull();
    expect(retryTimeFor(new Error('x'), info({ attempt: 1, retryLimit: 1 }), now)).toBeNull();
  });

  it('retries a RetryableError after exactly retryAfterMs, without backoff or jitter', () => {
    expect(retryTimeFor(new RetryableError('429', { retryAfterMs: 7_500 }), info({ attempt: 2 }), now, () => 0.9)).toEqual(
      new Date(now + 7_500),
    );
    expect(retryTimeFor(new RetryableError('now', { retryAfterMs: 0 }), info(), now)).toEqual(new Date(now));
  });

  it('uses backoff for a RetryableError without retryAfterMs and for any other error', () => {
    expect(retryTimeFor(new RetryableError('later'), info({ attempt: 2 }), now, () => 0)).toEqual(new Date(now + 2_000));
    expect(retryTimeFor(new Error('x'), info({ attempt: 1 }), now, () => 0.5)).toEqual(new Date(now + 750));
    expect(retryTimeFor('thrown string', info({ attempt: 2, retryLimit: 3 }), now, () => 1)).toEqual(new Date(now + 1_000));
  });

  it('rejects a negative or non-finite retryAfterMs when the error is made', () => {
    expect(() => new RetryableError('x', { retryAfterMs: -1 })).toThrow('RetryableError: retryAfterMs must be a finite number >= 0, got -1');
    expect(() => new RetryableError('x', { retryAfterMs: Number.NaN })).toThrow(TypeError);
  });
});
