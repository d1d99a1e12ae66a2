/**
 * Generators of hostile input for the fuzz tests (fast-check): wrong types, huge and weird
 * strings, SQL metacharacters, deep and wide JSON, odd numbers and dates. Runs are reproducible:
 * every property runs with FUZZ_SEED (default fixed) and prints the seed of a failure.
 */
import fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261126);
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 150);
export const fuzzParams = (numRuns = FUZZ_RUNS) => ({ seed: FUZZ_SEED, numRuns, endOnFailure: true });

/** Strings an attacker or a broken client sends: SQL, NULs, lone surrogates, control and huge. */
export const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(
      "'; DROP TABLE tasks; --",
      "' OR '1'='1",
      '"; SELECT pg_sleep(10); --',
      '$1',
      '$$; DROP SCHEMA x CASCADE; $$',
      '\\',
      '%',
      '_',
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udc00y',
      '😀',
      '',
      ' ',
      '../../etc/passwd',
      '<script>alert(1)</script>',
      '${process.exit()}',
      '__proto__',
      'constructor',
      '1e309',
      '-1',
      '0',
      '9223372036854775808',
      'NaN',
      'null',
      'undefined',
      '[]',
      '{}',
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ maxLength: 20 }).map((s) => `${s}'${s}"${s};--`),
    fc.integer({ min: 129, max: 300_000 }).map((n) => 'x'.repeat(n)), // printed whole: keep FUZZ_RUNS reports short
  );

/** Names a big generated value in fast-check's reports instead of printing all of it. */
const labelled = <T extends object>(v: T, label: string): T => Object.defineProperty(v, fc.toStringMethod, { value: () => label, enumerable: false });

/** JSON-ish values nested `depth` levels. */
export const deep = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return labelled(v as object, `<${depth} levels deep>`);
};

/** Anything at all, biased to what breaks parsers and databases. */
export const hostileValue = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    hostileString(),
    fc.anything({ maxDepth: 4, withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true }),
    fc.constantFrom(
      null,
      undefined,
      NaN,
      Infinity,
      -Infinity,
      -0,
      Number.MAX_SAFE_INTEGER + 2,
      Number.MIN_VALUE,
      new Date(Number.NaN),
      new Date(8.64e15),
      new Date(-8.64e15),
      new Date('0001-01-01T00:00:00Z'),
      Symbol('s'),
      () => 1,
      [],
      {},
    ),
    fc.integer({ min: 65, max: 3_000 }).map((d) => deep(d)),
    fc.integer({ min: 1, max: 5 }).map((n) => labelled({ wide: Array.from({ length: n * 60_000 }, (_, i) => i) }, `<array of ${n * 60_000}>`)),
    fc.constantFrom({ s: '\u0000' }, { s: '\ud800' }, { '\u0000': 1 }, { '\udfff': 1 }, { s: 'ok\\u0000' }),
  );

/** A value or, half of the time, something that looks valid. */
export const maybe = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof(valid, hostileValue());
