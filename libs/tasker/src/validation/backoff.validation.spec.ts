import { backoffProblems } from './backoff.validation';

describe('backoffProblems', () => {
  it('accepts valid and partial options', () => {
    expect(backoffProblems({}, 'x')).toEqual([]);
    expect(backoffProblems({ baseMs: 0, maxMs: 0, jitter: 1 }, 'x')).toEqual([]);
    expect(backoffProblems({ jitter: false }, 'x')).toEqual([]);
  });

  it('names each bad field with its location', () => {
    expect(backoffProblems({ baseMs: -1, maxMs: Number.NaN, jitter: 1.5 }, 'defaults.backoff')).toEqual([
      'defaults.backoff.baseMs must be a number >= 0',
      'defaults.backoff.maxMs must be a number >= 0',
      'defaults.backoff.jitter must be a boolean or a number from 0 to 1',
    ]);
    expect(backoffProblems({ baseMs: Infinity, jitter: 'yes' as never }, 'b')).toEqual([
      'b.baseMs must be a number >= 0',
      'b.jitter must be a boolean or a number from 0 to 1',
    ]);
  });
});
