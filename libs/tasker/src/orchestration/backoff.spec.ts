import { backoffDelayMs, jitterFraction } from './backoff';

const noJitter = { baseMs: 100, maxMs: 10_000, jitter: 0 };

describe('backoffDelayMs', () => {
  it('doubles from baseMs with each failed attempt', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, noJitter))).toEqual([100, 200, 400, 800, 1_600]);
  });

  it('never exceeds maxMs', () => {
    expect(backoffDelayMs(7, noJitter)).toBe(6_400);
    expect(backoffDelayMs(8, noJitter)).toBe(10_000);
    expect(backoffDelayMs(30, noJitter)).toBe(10_000);
  });

  it('stays finite for absurd attempt numbers', () => {
    expect(backoffDelayMs(10_000, noJitter)).toBe(10_000);
    expect(backoffDelayMs(10_000, { baseMs: 1, maxMs: Number.MAX_SAFE_INTEGER, jitter: 0 })).toBe(2 ** 52);
  });

  it('returns 0 when baseMs is 0', () => {
    expect(backoffDelayMs(3, { baseMs: 0, maxMs: 1_000, jitter: 0.5 }, () => 0.5)).toBe(0);
  });

  it('subtracts jitter·random·delay, with the random source injected', () => {
    const opts = { baseMs: 1_000, maxMs: 60_000, jitter: 0.5 };
    expect(backoffDelayMs(1, opts, () => 0)).toBe(1_000);
    expect(backoffDelayMs(1, opts, () => 0.5)).toBe(750);
    expect(backoffDelayMs(3, opts, () => 0.25)).toBe(3_500);
    expect(backoffDelayMs(1, opts, () => 0.999_999)).toBe(500);
  });

  it('applies jitter after the cap', () => {
    expect(backoffDelayMs(20, { baseMs: 1_000, maxMs: 2_000, jitter: 0.5 }, () => 1)).toBe(1_000);
  });

  it('keeps every jittered delay within [delay·(1-jitter), delay]', () => {
    const opts = { baseMs: 400, maxMs: 100_000, jitter: 0.3 };
    for (let attempt = 1; attempt <= 8; attempt++) {
      const full = 400 * 2 ** (attempt - 1);
      for (const r of [0, 0.1, 0.33, 0.5, 0.77, 0.999]) {
        const d = backoffDelayMs(attempt, opts, () => r);
        expect(d).toBeGreaterThanOrEqual(Math.round(full * 0.7));
        expect(d).toBeLessThanOrEqual(full);
      }
    }
  });

  it('uses Math.random by default and stays within bounds', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(2, { baseMs: 1_000, maxMs: 60_000, jitter: 0.2 });
      expect(d).toBeGreaterThanOrEqual(1_600);
      expect(d).toBeLessThanOrEqual(2_000);
    }
  });

  it('jitter true means 20 %, false means none', () => {
    expect(backoffDelayMs(1, { baseMs: 1_000, maxMs: 60_000, jitter: true }, () => 1)).toBe(800);
    expect(backoffDelayMs(1, { baseMs: 1_000, maxMs: 60_000, jitter: true }, () => 0.5)).toBe(900);
    expect(backoffDelayMs(1, { baseMs: 1_000, maxMs: 60_000, jitter: false }, () => 1)).toBe(1_000);
  });
});

describe('jitterFraction', () => {
  it('maps booleans and passes numbers through', () => {
    expect(jitterFraction(true)).toBe(0.2);
    expect(jitterFraction(false)).toBe(0);
    expect(jitterFraction(0.35)).toBe(0.35);
  });
});
