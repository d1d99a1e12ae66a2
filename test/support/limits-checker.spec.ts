import fc from 'fast-check';
import type { AuditEntry } from 'nestjs-tasker';
import {
  concurrencyViolations,
  describeViolations,
  Hold,
  keyValue,
  maxRunning,
  rateViolations,
  Start,
  stepHolds,
  stepRuns,
  stepStarts,
  taskHolds,
  taskRuns,
  tightestSpan,
  Transition,
  transitionsFromAuditTrail,
} from './limits-checker';

/**
 * The flow-control checker must be able to fail: each kind of excess is reported, the boundaries
 * (a place freed and taken at the same instant, starts exactly a period apart) are not, and the
 * sweeps agree with a brute-force count on random histories. Synthetic histories, no database.
 */
describe('limits checker', () => {
  const h = (group: string, id: string, from: number, to: number | null): Hold => ({ group, id, from, to });
  const s = (group: string, id: string, at: number): Start => ({ group, id, at });

  describe('concurrency', () => {
    it('passes holds that never exceed the limit, a place freed and taken at the same instant included', () => {
      const holds = [h('eu', 'a', 0, 10), h('eu', 'b', 5, 20), h('eu', 'c', 10, 30), h('eu', 'd', 20, null), h('us', 'e', 0, 100), h('us', 'f', 0, 100)];
      expect(concurrencyViolations(holds, 2)).toEqual([]);
      expect(maxRunning(holds)).toEqual(new Map([['eu', 2], ['us', 2]]));
    });

    it('reports the instant a third holder joined two, and names the holders', () => {
      const holds = [h('eu', 'a', 0, 10), h('eu', 'b', 5, 20), h('eu', 'c', 9.5, 11)];
      expect(concurrencyViolations(holds, 2)).toEqual([{ group: 'eu', at: 9.5, running: 3, limit: 2, holders: ['a', 'b', 'c'] }]);
    });

    it('counts a hold still open at the end of the history as running for ever', () => {
      expect(concurrencyViolations([h('k', 'a', 0, null), h('k', 'b', 1_000_000, 1_000_001)], 1)).toMatchObject([{ at: 1_000_000, running: 2 }]);
    });

    it('overlap of one microsecond is an excess', () => {
      expect(concurrencyViolations([h('k', 'a', 0, 10.001), h('k', 'b', 10, 20)], 1)).toHaveLength(1);
      expect(concurrencyViolations([h('k', 'a', 0, 10), h('k', 'b', 10, 20)], 1)).toEqual([]);
    });

    it('keeps groups apart, and takes a limit per group', () => {
      const holds = [h('a', '1', 0, 10), h('a', '2', 0, 10), h('b', '3', 0, 10), h('b', '4', 0, 10)];
      expect(concurrencyViolations(holds, 1).map((o) => o.group)).toEqual(['a', 'b']);
      expect(concurrencyViolations(holds, (g) => (g === 'a' ? 2 : 1)).map((o) => o.group)).toEqual(['b']);
    });

    it('counts a hold that starts and ends at one (truncated) instant there, not one that ended there', () => {
      expect(concurrencyViolations([h('k', 'a', 0, 20), h('k', 'b', 10, 10)], 1)).toHaveLength(1);
      expect(concurrencyViolations([h('k', 'a', 0, 10), h('k', 'b', 10, 10)], 1)).toEqual([]);
    });

    it('refuses a hold that ends before it starts', () => {
      expect(() => concurrencyViolations([h('k', 'a', 10, 5)], 1)).toThrow(/ends/);
    });

    it('agrees with a brute-force count on random histories', () => {
      const holdArb = fc.record({
        group: fc.constantFrom('x', 'y'),
        from: fc.integer({ min: 0, max: 50 }),
        len: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      });
      fc.assert(
        fc.property(fc.array(holdArb, { maxLength: 25 }), fc.integer({ min: 1, max: 3 }), (raw, limit) => {
          const holds = raw.map((r, i) => h(r.group, String(i), r.from, r.len === null ? null : r.from + r.len));
          // Running at t: started at or before t, not yet ended (a zero-length hold counts at its instant).
          const runningAt = (g: string, t: number) =>
            holds.filter((x) => x.group === g && x.from <= t && (x.to === null || t < x.to || (x.to === x.from && x.to === t))).length;
          const expected = new Set(holds.filter((x) => runningAt(x.group, x.from) > limit).map((x) => `${x.group}@${x.from}`));
          const got = new Set(concurrencyViolations(holds, limit).map((o) => `${o.group}@${o.at}`));
          expect(got).toEqual(expected);
          for (const [g, max] of maxRunning(holds)) expect(max).toBe(Math.max(0, ...holds.filter((x) => x.group === g).map((x) => runningAt(g, x.from))));
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('rate', () => {
    it('passes starts spaced so that no window of the period holds more than the limit; exactly a period apart is fine', () => {
      const starts = [s('stripe:m1', 'a', 0), s('stripe:m1', 'b', 10), s('stripe:m1', 'c', 1000), s('stripe:m1', 'd', 1010), s('stripe:m1', 'e', 2010)];
      expect(rateViolations(starts, 2, 1000)).toEqual([]);
      expect(tightestSpan(starts, 2)).toEqual(new Map([['stripe:m1', 1000]]));
    });

    it('reports a window with one start too many, a microsecond short of the period', () => {
      const starts = [s('b', 'a', 0), s('b', 'b', 10), s('b', 'c', 999.999)];
      expect(rateViolations(starts, 2, 1000)).toEqual([{ group: 'b', from: 0, starts: 3, limit: 2, periodMs: 1000, ids: ['a', 'b', 'c'], spanMs: 999.999 }]);
    });

    it('finds a burst in the middle of a long, otherwise well spaced history (a sliding window, not fixed buckets)', () => {
      // Fixed one-second buckets would see at most 2 per bucket: 1 at 900 and 950, 1 at 1000 and 1050.
      const starts = [0, 900, 950, 1000, 1050, 3000, 4000].map((at, i) => s('b', String(i), at));
      const v = rateViolations(starts, 2, 1000);
      expect(v.map((o) => [o.from, o.starts])).toEqual([
        [0, 3],
        [900, 4],
        [950, 3],
      ]);
    });

    it('keeps groups apart, and takes a limit and a period per group', () => {
      const starts = [s('a', '1', 0), s('a', '2', 100), s('b', '3', 0), s('b', '4', 100)];
      expect(rateViolations(starts, 1, 1000).map((o) => o.group)).toEqual(['a', 'b']);
      expect(rateViolations(starts, 1, (g) => (g === 'a' ? 100 : 1000)).map((o) => o.group)).toEqual(['b']);
    });

    it('agrees with a brute-force count on random histories, for windows opening anywhere', () => {
      fc.assert(
        fc.property(
          fc.array(fc.record({ group: fc.constantFrom('x', 'y'), at: fc.integer({ min: 0, max: 100 }) }), { maxLength: 30 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: -10, max: 110 }),
          (raw, limit, period, t) => {
            const starts = raw.map((r, i) => s(r.group, String(i), r.at));
            const inWindow = (g: string, from: number) => starts.filter((x) => x.group === g && x.at >= from && x.at < from + period).length;
            const got = rateViolations(starts, limit, period);
            const expected = new Set(starts.filter((x) => inWindow(x.group, x.at) > limit).map((x) => `${x.group}@${x.at}`));
            expect(new Set(got.map((o) => `${o.group}@${o.from}`))).toEqual(expected);
            // A window opening at any time with too many starts is caught.
            for (const g of ['x', 'y']) if (inWindow(g, t) > limit) expect(got.some((o) => o.group === g)).toBe(true);
          },
        ),
        { numRuns: 500 },
      );
    });
  });

  describe('histories from transitions', () => {
    let seq = 0;
    const tr = (taskId: string, step: string | null, from: string | null, to: string, at: number, attempt: number | null = null): Transition => ({
      taskId,
      step,
      from,
      to,
      at,
      attempt,
      seq: ++seq,
    });

    it('an attempt holds its place from its claim to its outcome; a lapsed lease ends it at the lapse; a wait frees it', () => {
      const ts = [
        tr('1', null, null, 'pending', 0),
        tr('1', 'call', 'pending', 'in_progress', 10, 1),
        tr('1', null, 'pending', 'in_progress', 10),
        tr('1', 'call', 'in_progress', 'error', 50, 1), // the lease lapsed (tasker:sweeper)
        tr('1', 'call', 'error', 'in_progress', 60, 2),
        tr('1', 'call', 'in_progress', 'waiting', 70, 2),
        tr('1', 'call', 'waiting', 'in_progress', 90, 2), // claimed back: holds again, but is no new start
        tr('1', 'call', 'in_progress', 'complete', 95, 2),
        tr('2', 'call', 'pending', 'in_progress', 40, 1),
        tr('2', 'call', 'in_progress', 'complete', 55, 1),
        tr('3', 'call', 'pending', 'in_progress', 96, 1), // still running
      ];
      const runs = stepRuns(ts);
      expect(runs.map((r) => [r.taskId, r.attempt, r.from, r.to, r.startedFrom, r.endedTo])).toEqual([
        ['1', 1, 10, 50, 'pending', 'error'],
        ['2', 1, 40, 55, 'pending', 'complete'],
        ['1', 2, 60, 70, 'error', 'waiting'],
        ['1', 2, 90, 95, 'waiting', 'complete'],
        ['3', 1, 96, null, 'pending', null],
      ]);
      const holds = stepHolds(runs, () => 'call:eu');
      expect(concurrencyViolations(holds, 1)).toEqual([{ group: 'call:eu', at: 40, running: 2, limit: 1, holders: ['task 1 call#1', 'task 2 call#1'] }]);
      expect(stepStarts(runs, () => 'bucket').map((x) => x.at)).toEqual([10, 40, 60, 96]);
      // One more start, still running: limit 1 is exceeded again only if it overlaps.
      expect(concurrencyViolations([...holds, { group: 'call:eu', id: 'late', from: 200, to: 201 }], 1)).toHaveLength(2);
    });

    it('a task is active while it is in progress or any of its steps is, also a step claimed before its task is recorded as started', () => {
      const ts = [
        tr('1', null, null, 'pending', 0),
        tr('1', 'a', 'pending', 'in_progress', 5, 1), // the claim could not lock the task: it starts with the first outcome
        tr('1', 'a', 'in_progress', 'complete', 20, 1),
        tr('1', null, 'pending', 'in_progress', 20),
        tr('1', 'b', 'pending', 'in_progress', 25, 1),
        tr('1', 'b', 'in_progress', 'complete', 30, 1),
        tr('1', null, 'in_progress', 'complete', 30),
        tr('2', null, null, 'pending', 0),
        tr('2', 'a', 'pending', 'in_progress', 30, 1),
        tr('2', null, 'pending', 'in_progress', 30),
        tr('2', 'a', 'in_progress', 'error', 40, 1),
        tr('2', null, 'in_progress', 'error', 40),
        tr('2', null, 'error', 'pending', 100), // retried
        tr('2', 'a', 'error', 'pending', 100, 1),
        tr('2', 'a', 'pending', 'in_progress', 110, 1),
        tr('2', null, 'pending', 'in_progress', 110),
        tr('3', null, null, 'pending', 0),
        tr('3', 'a', 'pending', 'in_progress', 29.5, 1),
      ];
      const runs = taskRuns(ts);
      expect(runs.map((r) => [r.taskId, r.from, r.to]).sort()).toEqual([
        ['1', 5, 30],
        ['2', 110, null],
        ['2', 30, 40],
        ['3', 29.5, null],
      ]);
      // Tasks 1 and 2 follow each other; task 3 (same key) started while task 1 was still active, and never ended.
      const holds = taskHolds(runs, (id) => (id === '3' || id === '1' || id === '2' ? 'sync:acct-1' : undefined));
      expect(concurrencyViolations(holds, 1)).toEqual([
        { group: 'sync:acct-1', at: 29.5, running: 2, limit: 1, holders: ['task 1', 'task 3'] },
        { group: 'sync:acct-1', at: 30, running: 2, limit: 1, holders: ['task 3', 'task 2'] },
        { group: 'sync:acct-1', at: 110, running: 2, limit: 1, holders: ['task 3', 'task 2'] },
      ]);
      // Without task 3, no excess.
      expect(concurrencyViolations(taskHolds(runs, (id) => (id === '3' ? undefined : 'sync:acct-1')), 1)).toEqual([]);
    });

    it('reads audit trails as transitions, keeping their order for equal times', () => {
      const at = (ms: number) => new Date(1_700_000_000_000 + ms);
      const trail: AuditEntry[] = [
        { taskId: '7', stepName: null, from: null, to: 'pending', at: at(0) },
        { taskId: '7', stepName: 'call', from: 'pending', to: 'in_progress', at: at(3), attempt: 1 },
        { taskId: '7', stepName: 'call', from: 'in_progress', to: 'complete', at: at(3), attempt: 1 },
        { taskId: '7', stepName: 'call2', from: 'pending', to: 'in_progress', at: at(3), attempt: 1 },
      ];
      const runs = stepRuns(transitionsFromAuditTrail([trail]));
      expect(runs.map((r) => [r.step, r.from - at(0).getTime(), r.to === null ? null : r.to - at(0).getTime()])).toEqual([
        ['call', 3, 3],
        ['call2', 3, null],
      ]);
    });

    it('takes key values from a dotted path of the context, "" when missing or without a path', () => {
      const ctx = { accountId: 'acct-1', n: 3, nested: { region: 'eu' }, empty: null };
      expect(keyValue(ctx, 'accountId')).toBe('acct-1');
      expect(keyValue(ctx, 'nested.region')).toBe('eu');
      expect(keyValue(ctx, 'n')).toBe('3');
      expect(keyValue(ctx, 'missing')).toBe('');
      expect(keyValue(ctx, 'nested.region.deeper')).toBe('');
      expect(keyValue(ctx, 'empty')).toBe('');
      expect(keyValue(ctx, undefined)).toBe('');
    });
  });

  it('describes what it found', () => {
    const lines = describeViolations({
      concurrency: concurrencyViolations([h('k', 'a', 0, 10), h('k', 'b', 5.25, 10)], 1),
      rate: rateViolations([s('r', 'x', 0), s('r', 'y', 1)], 1, 10),
    });
    expect(lines).toEqual([
      'concurrency k: 2 running at 1970-01-01T00:00:00.005250Z (limit 1): a, b',
      'rate r: 2 starts in 10 ms from 1970-01-01T00:00:00.000Z (limit 1; 2 within 1.000 ms): x, y',
    ]);
  });
});
