import { TaskerConfigError } from './errors/boot.errors';
import { normalizeOptions } from './tasker-config';

const url = 'postgres://u:p@localhost:5432/db';

function configError(options: unknown): TaskerConfigError {
  try {
    normalizeOptions(options as never);
  } catch (e) {
    expect(e).toBeInstanceOf(TaskerConfigError);
    expect((e as TaskerConfigError).code).toBe('INVALID_CONFIGURATION');
    return e as TaskerConfigError;
  }
  throw new Error('expected normalizeOptions to throw');
}

describe('normalizeOptions', () => {
  it('refuses misspelt options at every level instead of ignoring them', () => {
    const msg = configError({ databaseUrl: url, shema: 'x', worker: { concurency: 5 }, defaults: { retrylimit: 2, backoff: { base: 1 } } }).message;
    expect(msg).toContain('shema is not an option');
    expect(msg).toContain('worker.concurency is not an option (known: enabled, concurrency,');
    expect(msg).toContain('defaults.retrylimit is not an option');
    expect(msg).toContain('defaults.backoff.base is not an option');
  });

  it('has no test switches: retryDelays belongs to the testing kit', () => {
    expect(configError({ databaseUrl: url, retryDelays: 'skip' }).message).toBe(
      'TaskerModule options are invalid: retryDelays is not an option (known: databaseUrl, dataSourceName, schema, migrationsRun, poolSize, ' +
        'statementTimeoutMs, worker, defaults, logging, retention).',
    );
  });

  it('fills in every default', () => {
    expect(normalizeOptions({ databaseUrl: url })).toEqual({
      databaseUrl: url,
      dataSourceName: undefined,
      schema: 'tasker',
      migrationsRun: true,
      poolSize: 10,
      statementTimeoutMs: 60_000,
      worker: {
        enabled: true,
        concurrency: 10,
        prefetch: 0,
        pollIntervalMs: 1_000,
        leaseMs: 30_000,
        sweepIntervalMs: 5_000,
        priorityAgingMs: 10_000,
        shutdownTimeoutMs: 10_000,
      },
      defaults: { retryLimit: 3, backoff: { baseMs: 1_000, maxMs: 300_000, jitter: 0.2 } },
      logging: true,
      retention: null,
    });
  });

  it('keeps given values and fills the rest, ignoring explicit undefined', () => {
    const c = normalizeOptions({
      dataSourceName: 'default',
      schema: 'jobs_2',
      migrationsRun: false,
      poolSize: 3,
      logging: false,
      worker: { enabled: false, concurrency: 2, leaseMs: undefined },
      defaults: { retryLimit: 5, backoff: { jitter: false, maxMs: undefined } },
    });
    expect(c).toMatchObject({
      dataSourceName: 'default',
      schema: 'jobs_2',
      migrationsRun: false,
      poolSize: 3,
      logging: false,
      worker: { enabled: false, concurrency: 2, pollIntervalMs: 1_000, leaseMs: 30_000 },
      defaults: { retryLimit: 5, backoff: { baseMs: 1_000, maxMs: 300_000, jitter: false } },
    });
  });

  it('requires a database and says how to give one', () => {
    expect(configError(undefined).message).toBe(
      'TaskerModule options are invalid: a database is required: set databaseUrl (e.g. process.env.DATABASE_URL) or dataSourceName.',
    );
    expect(configError({ databaseUrl: '   ' }).message).toContain(
      'databaseUrl must be a non-empty connection string (postgres://user:password@host:5432/db)',
    );
  });

  it('refuses both databaseUrl and dataSourceName', () => {
    expect(configError({ databaseUrl: url, dataSourceName: 'x' }).message).toBe(
      'TaskerModule options are invalid: give either databaseUrl or dataSourceName, not both.',
    );
  });

  it('refuses a non-object', () => {
    expect(configError('postgres://x').message).toBe('TaskerModule.forRoot expects an options object.');
  });

  it('refuses a schema that is not a lower-case identifier', () => {
    for (const schema of ['Tasker', 'my-schema', '1abc', '', 'a'.repeat(64), 'x; drop table y']) {
      expect(configError({ databaseUrl: url, schema }).message).toContain(
        `schema must be a lower-case Postgres identifier (letters, digits, _), got ${JSON.stringify(schema)}`,
      );
    }
    expect(normalizeOptions({ databaseUrl: url, schema: 'a'.repeat(63) }).schema).toBe('a'.repeat(63));
  });

  it('takes worker.prefetch from 0 to 10000 (default 0) and names a bad one', () => {
    expect(normalizeOptions({ databaseUrl: url }).worker.prefetch).toBe(0);
    expect(normalizeOptions({ databaseUrl: url, worker: { prefetch: 100 } }).worker.prefetch).toBe(100);
    for (const prefetch of [-1, 1.5, 10_001, '5']) {
      expect(configError({ databaseUrl: url, worker: { prefetch } }).message).toBe(
        'TaskerModule options are invalid: worker.prefetch must be an integer from 0 to 10000.',
      );
    }
  });

  it('names each bad worker option', () => {
    expect(configError({ databaseUrl: url, worker: { concurrency: 0 } }).message).toBe(
      'TaskerModule options are invalid: worker.concurrency must be a positive integer.',
    );
    const msg = configError({
      databaseUrl: url,
      worker: { enabled: 'yes', concurrency: 1.5, pollIntervalMs: -1, leaseMs: 50, sweepIntervalMs: '1', shutdownTimeoutMs: -1 },
    }).message;
    expect(msg).toBe(
      'TaskerModule options are invalid: worker.enabled must be a boolean; worker.concurrency must be a positive integer; ' +
        'worker.pollIntervalMs must be a positive integer; worker.sweepIntervalMs must be a positive integer; ' +
        'worker.shutdownTimeoutMs must be an integer >= 0; worker.leaseMs must be at least 100.',
    );
    expect(normalizeOptions({ databaseUrl: url, worker: { shutdownTimeoutMs: 0, leaseMs: 100 } }).worker).toMatchObject({
      shutdownTimeoutMs: 0,
      leaseMs: 100,
    });
  });

  it('names bad defaults, pool size and flags', () => {
    const msg = configError({
      databaseUrl: url,
      poolSize: 0,
      migrationsRun: 'true',
      logging: 1,
      defaults: { retryLimit: 0, backoff: { baseMs: -5, jitter: 3 } },
    }).message;
    expect(msg).toBe(
      'TaskerModule options are invalid: migrationsRun must be a boolean; logging must be a boolean; ' +
        'poolSize must be an integer from 1 to 1000; defaults.retryLimit must be an integer from 1 to 1000 (total attempts); ' +
        'defaults.backoff.baseMs must be a number >= 0; defaults.backoff.jitter must be a boolean or a number from 0 to 1.',
    );
    expect(configError({ databaseUrl: url, poolSize: 1001 }).message).toContain('poolSize must be an integer from 1 to 1000');
    for (const statementTimeoutMs of [0, 99, 1.5, '1000'] as never[]) {
      expect(configError({ databaseUrl: url, statementTimeoutMs }).message).toContain('statementTimeoutMs must be an integer of at least 100 (ms)');
    }
    expect(normalizeOptions({ databaseUrl: url, statementTimeoutMs: 100 }).statementTimeoutMs).toBe(100);
    expect(configError({ databaseUrl: url, defaults: { retryLimit: 1001 } }).message).toContain('defaults.retryLimit must be an integer from 1 to 1000');
  });

  it('retention: off by default; finishedAfterMs required, defaults for the rest, each bad value named', () => {
    expect(normalizeOptions({ databaseUrl: url }).retention).toBeNull();
    expect(normalizeOptions({ databaseUrl: url, retention: { finishedAfterMs: 30 * 86_400_000 } }).retention).toEqual({
      finishedAfterMs: 30 * 86_400_000,
      intervalMs: 60_000,
      batchSize: 500,
    });
    expect(configError({ databaseUrl: url, retention: {} }).message).toContain('retention.finishedAfterMs is required');
    for (const finishedAfterMs of [-1, 0, 1.5, '1000', NaN, Infinity, null]) {
      expect(configError({ databaseUrl: url, retention: { finishedAfterMs } }).message).toContain('retention.finishedAfterMs must be a positive integer');
    }
    for (const intervalMs of [-5, 0, '60000', 2.5]) {
      expect(configError({ databaseUrl: url, retention: { finishedAfterMs: 1, intervalMs } }).message).toContain('retention.intervalMs must be a positive integer');
    }
    for (const batchSize of [0, -1, 10_001, 'x']) {
      expect(configError({ databaseUrl: url, retention: { finishedAfterMs: 1, batchSize } }).message).toContain('retention.batchSize must be an integer from 1 to 10000');
    }
    expect(configError({ databaseUrl: url, retention: 86_400_000 }).message).toContain('retention must be an object { finishedAfterMs, intervalMs?, batchSize? }');
    expect(configError({ databaseUrl: url, retention: { finishedAfter: 1 } }).message).toContain('retention.finishedAfter is not an option');
  });

  it('does not mutate the options it was given', () => {
    const options = { databaseUrl: url, worker: { concurrency: 4 }, defaults: { backoff: { baseMs: 5 } } };
    const copy = JSON.parse(JSON.stringify(options));
    const c = normalizeOptions(options);
    c.worker.concurrency = 99;
    c.defaults.backoff.baseMs = 99;
    expect(options).toEqual(copy);
  });
});
