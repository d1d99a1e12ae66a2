import { HandlerDefinitionError } from '../errors/boot.errors';
import { buildHandlerDefinition, compareVersions, RawStep, StepDefaults } from './definition-builder';
import { toStoredDefinition } from './handler-definition';

const defaults: StepDefaults = { retryLimit: 3, backoff: { baseMs: 1_000, maxMs: 300_000, jitter: 0.2 } };
const raw = (methodName: string, options: RawStep['options'] = {}, ...dependsOn: string[]): RawStep => ({ methodName, options, dependsOn });

function buildError(fn: () => unknown): HandlerDefinitionError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HandlerDefinitionError);
    return e as HandlerDefinitionError;
  }
  throw new Error('expected buildHandlerDefinition to throw');
}

describe('buildHandlerDefinition', () => {
  it('fills in namespace, version, step names and module defaults', () => {
    const def = buildHandlerDefinition('OrderHandler', { name: 'order' }, [raw('validate')], defaults);
    expect(def).toEqual({
      namespace: 'default',
      name: 'order',
      version: '0.1.0',
      description: undefined,
      contextDto: undefined,
      steps: [
        {
          name: 'validate',
          methodName: 'validate',
          description: undefined,
          dependsOn: [],
          retryable: true,
          retryLimit: 3,
          timeoutMs: undefined,
          backoff: { baseMs: 1_000, maxMs: 300_000, jitter: 0.2 },
        },
      ],
    });
  });

  it('takes step options over defaults and merges a partial backoff', () => {
    const def = buildHandlerDefinition(
      'H',
      { name: 'h', namespace: 'billing', version: '2.0.0', description: 'd' },
      [raw('charge', { name: 'charge_card', retryLimit: 7, timeoutMs: 500, description: 'c', backoff: { baseMs: 50 } })],
      defaults,
    );
    expect(def.namespace).toBe('billing');
    expect(def.version).toBe('2.0.0');
    expect(def.description).toBe('d');
    expect(def.steps[0]).toEqual({
      name: 'charge_card',
      methodName: 'charge',
      description: 'c',
      dependsOn: [],
      retryable: true,
      retryLimit: 7,
      timeoutMs: 500,
      backoff: { baseMs: 50, maxMs: 300_000, jitter: 0.2 },
    });
  });

  it('gives a retryable: false step exactly one attempt, whatever retryLimit says', () => {
    const def = buildHandlerDefinition('H', { name: 'h' }, [raw('a', { retryable: false }), raw('b', { retryable: false, retryLimit: 9 })], defaults);
    expect(def.steps.map((s) => [s.name, s.retryable, s.retryLimit])).toEqual([
      ['a', false, 1],
      ['b', false, 1],
    ]);
  });

  it('orders steps dependencies first and removes repeated @DependsOn names', () => {
    const def = buildHandlerDefinition('H', { name: 'h' }, [raw('c', {}, 'b', 'b', 'a'), raw('b', {}, 'a'), raw('a')], defaults);
    expect(def.steps.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect(def.steps[2].dependsOn).toEqual(['b', 'a']);
  });

  it('names the handler, its key and every problem in one message', () => {
    const err = buildError(() =>
      buildHandlerDefinition(
        'BadHandler',
        { name: 'bad', namespace: 'ns', version: '1.0.0' },
        [
          raw('a', { retryLimit: 0 }),
          raw('b', { timeoutMs: -5 }),
          raw('c', { retryable: 'yes' as never, backoff: { jitter: 2 } }),
          raw('d', {}, 'missing'),
        ],
        defaults,
      ),
    );
    expect(err.code).toBe('INVALID_HANDLER_DEFINITION');
    expect(err.message).toBe(
      '@TaskHandler BadHandler (ns/bad@1.0.0) is invalid: ' +
        'step "a": retryLimit must be an integer from 1 to 1000 (total attempts), got 0; ' +
        'step "b": timeoutMs must be a positive integer of milliseconds, got -5; ' +
        'step "c": retryable must be a boolean; ' +
        'step "c": backoff.jitter must be a boolean or a number from 0 to 1; ' +
        'step "d" depends on "missing", which is not a step of this handler.',
    );
  });

  it('a @DependsOn typo names the step it probably meant', () => {
    const err = buildError(() =>
      buildHandlerDefinition('Orders', { name: 'orders', namespace: 'ns', version: '1.0.0' }, [raw('validate_payment'), raw('update_inventory', {}, 'validate_paymnet')], defaults),
    );
    expect(err.message).toBe(
      '@TaskHandler Orders (ns/orders@1.0.0) is invalid: step "update_inventory" depends on "validate_paymnet", which is not a step of this handler (did you mean "validate_payment"?).',
    );
  });

  it('rejects bad handler names, namespaces, versions and context', () => {
    const err = buildError(() =>
      buildHandlerDefinition('H', { name: 'has space', namespace: '', version: 'v 1', context: {} as never }, [raw('a')], defaults),
    );
    expect(err.message).toContain('name must be 1-128 letters, digits, "_", ".", ":" or "-" (got "has space")');
    expect(err.message).toContain('namespace must be 1-128 letters, digits, "_", ".", ":" or "-" (got "")');
    expect(err.message).toContain('version must be a string like "1.0.0" (got "v 1")');
    expect(err.message).toContain('context must be a class (a class-validator DTO)');
  });

  it('rejects a bad step name, a fractional retryLimit and a too-large one', () => {
    const err = buildError(() =>
      buildHandlerDefinition('H', { name: 'h' }, [raw('a', { name: 'a/b' }), raw('b', { retryLimit: 1.5 }), raw('c', { retryLimit: 1001 })], defaults),
    );
    expect(err.message).toContain('step "a/b": name must be 1-128 letters, digits, "_", ".", ":" or "-"');
    expect(err.message).toContain('step "b": retryLimit must be an integer from 1 to 1000 (total attempts), got 1.5');
    expect(err.message).toContain('step "c": retryLimit must be an integer from 1 to 1000 (total attempts), got 1001');
  });

  it('reports a cycle by its path, a duplicate step and a handler without steps', () => {
    expect(buildError(() => buildHandlerDefinition('C', { name: 'c' }, [raw('x', {}, 'y'), raw('y', {}, 'x')], defaults)).message).toBe(
      '@TaskHandler C (default/c@0.1.0) is invalid: its steps form a cycle: x → y → x.',
    );
    expect(buildError(() => buildHandlerDefinition('D', { name: 'd' }, [raw('one', { name: 'same' }), raw('two', { name: 'same' })], defaults)).message).toBe(
      '@TaskHandler D (default/d@0.1.0) is invalid: step "same" is declared more than once.',
    );
    expect(buildError(() => buildHandlerDefinition('E', { name: 'e' }, [], defaults)).message).toBe(
      '@TaskHandler E (default/e@0.1.0) is invalid: it has no @Step methods.',
    );
  });

  it('stores what an API-only process needs, without methods', () => {
    const def = buildHandlerDefinition('H', { name: 'h', version: '1.2.3' }, [raw('a', { timeoutMs: 10 }), raw('b', {}, 'a')], defaults);
    expect(toStoredDefinition(def)).toEqual({
      namespace: 'default',
      name: 'h',
      version: '1.2.3',
      description: null,
      steps: [
        { name: 'a', description: null, dependsOn: [], retryLimit: 3, retryable: true, timeoutMs: 10, backoff: defaults.backoff },
        { name: 'b', description: null, dependsOn: ['a'], retryLimit: 3, retryable: true, timeoutMs: null, backoff: defaults.backoff },
      ],
    });
  });
});

describe('buildHandlerDefinition: dynamic steps', () => {
  it('refuses runIf and map that are not functions, and maxParallel below 1, not whole, or without map', () => {
    const err = buildError(() =>
      buildHandlerDefinition(
        'Dyn',
        { name: 'dyn' },
        [
          raw('a', { runIf: true as never }),
          raw('b', { map: ['x'] as never }),
          raw('c', { map: () => [], maxParallel: 0 }),
          raw('d', { map: () => [], maxParallel: 2.5 }),
          raw('e', { maxParallel: 3 }),
        ],
        defaults,
      ),
    );
    expect(err.message).toBe(
      '@TaskHandler Dyn (default/dyn@0.1.0) is invalid: ' +
        'step "a": runIf must be a function (ctx) => boolean, got true; ' +
        'step "b": map must be a function (ctx) => array of items, got an object; ' +
        'step "c": maxParallel must be an integer of at least 1, got 0; ' +
        'step "d": maxParallel must be an integer of at least 1, got 2.5; ' +
        "step \"e\": maxParallel needs map (it caps how many of a map step's instances run at once).",
    );
  });

  it('keeps the functions for the worker and records in the database that the step decides at run time', () => {
    const runIf = () => true;
    const map = () => [1, 2];
    const def = buildHandlerDefinition('H', { name: 'h' }, [raw('a', { runIf }), raw('b', { map, maxParallel: 4 }, 'a'), raw('c', { map }, 'b')], defaults);
    expect(def.steps.map((s) => [s.name, s.runIf, s.map, s.maxParallel])).toEqual([
      ['a', runIf, undefined, undefined],
      ['b', undefined, map, 4],
      ['c', undefined, map, undefined],
    ]);
    expect(toStoredDefinition(def).steps.map((s) => ({ ...s, backoff: undefined }))).toEqual([
      { name: 'a', description: null, dependsOn: [], retryLimit: 3, retryable: true, timeoutMs: null, backoff: undefined, condition: true },
      { name: 'b', description: null, dependsOn: ['a'], retryLimit: 3, retryable: true, timeoutMs: null, backoff: undefined, map: true, maxParallel: 4 },
      { name: 'c', description: null, dependsOn: ['b'], retryLimit: 3, retryable: true, timeoutMs: null, backoff: undefined, map: true, maxParallel: null },
    ]);
  });
});

describe('buildHandlerDefinition: flow control', () => {
  it('refuses limits below 1, periods below 1, keys that are not context paths and bad bucket names', () => {
    const err = buildError(() =>
      buildHandlerDefinition(
        'Fc',
        { name: 'fc', concurrency: { key: 'a..b', limit: 0 } },
        [
          raw('a', { concurrency: { limit: 1.5 } }),
          raw('b', { rateLimit: { bucket: 'has space', limit: 10, periodMs: 0 } }),
          raw('c', { rateLimit: { bucket: 'ok', limit: -1, periodMs: 1000, key: 7 as never } }),
        ],
        defaults,
      ),
    );
    expect(err.message).toBe(
      '@TaskHandler Fc (default/fc@0.1.0) is invalid: ' +
        'concurrency: limit must be an integer of at least 1, got 0; ' +
        'concurrency: key must be a dotted path into the task\'s context (e.g. "account.id"), got "a..b"; ' +
        'step "a": concurrency: limit must be an integer of at least 1, got 1.5; ' +
        'step "b": rateLimit: periodMs must be an integer of at least 1, got 0; ' +
        'step "b": rateLimit: bucket must be 1-128 letters, digits, "_", ".", ":" or "-", got "has space"; ' +
        'step "c": rateLimit: limit must be an integer of at least 1, got -1; ' +
        'step "c": rateLimit: key must be a dotted path into the task\'s context (e.g. "account.id"), got 7.',
    );
  });

  it('records the limits for every process, a missing key as null (one group)', () => {
    const def = buildHandlerDefinition(
      'H',
      { name: 'h', concurrency: { key: 'account.id', limit: 2 } },
      [raw('a', { concurrency: { limit: 5 }, rateLimit: { bucket: 'stripe', limit: 100, periodMs: 1000, key: 'merchant' } })],
      defaults,
    );
    const stored = toStoredDefinition(def);
    expect(stored.concurrency).toEqual({ key: 'account.id', limit: 2 });
    expect(stored.steps[0]).toMatchObject({ concurrency: { key: null, limit: 5 }, rateLimit: { bucket: 'stripe', limit: 100, periodMs: 1000, key: 'merchant' } });
  });
});

describe('compareVersions', () => {
  const sign = (a: string, b: string) => Math.sign(compareVersions(a, b));

  it('compares numeric parts as numbers', () => {
    expect(sign('1.10.0', '1.9.0')).toBe(1);
    expect(sign('1.9.0', '1.10.0')).toBe(-1);
    expect(sign('2.0.0', '10.0.0')).toBe(-1);
    expect(sign('1.0.10', '1.0.9')).toBe(1);
    expect(sign('1.2.3', '1.2.3')).toBe(0);
  });

  it('ranks a release above its pre-releases, and pre-releases among themselves', () => {
    expect(sign('1.0.0', '1.0.0-beta')).toBe(1);
    expect(sign('1.0.0-beta', '1.0.0')).toBe(-1);
    expect(sign('1.0.0-alpha', '1.0.0-beta')).toBe(-1);
    expect(sign('1.0.0-beta.10', '1.0.0-beta.2')).toBe(1);
    expect(sign('1.0.0-rc.1', '0.9.9')).toBe(1);
  });

  it('treats a missing numeric part as 0', () => {
    expect(sign('1.1', '1')).toBe(1);
    expect(sign('1', '1.1')).toBe(-1);
    expect(sign('1.0.1', '1.0')).toBe(1);
    expect(sign('2.0', '1.9.9')).toBe(1);
    expect(sign('1.0', '1.0.0')).toBe(0);
    expect(sign('1.0.0-beta', '1.0.0-beta.1')).toBe(-1);
    expect(sign('1.0.0-1', '1.0.0')).toBe(-1);
  });

  it('picks the highest of several versions', () => {
    const versions = ['1.9.0', '1.10.0-rc.1', '0.1.0', '1.10.0', '1.2.0'];
    expect(versions.reduce((a, b) => (compareVersions(b, a) > 0 ? b : a))).toBe('1.10.0');
  });
});
