import { readServiceConfig } from './config';

const URL = 'postgres://u:p@db:5432/app';

describe('readServiceConfig', () => {
  it('reads the production settings from the environment, with PORT 3000 and no worker by default', () => {
    expect(readServiceConfig({ DATABASE_URL: URL }, ['node', 'main.js'])).toEqual({
      databaseUrl: URL,
      port: 3000,
      host: undefined,
      schema: undefined,
      workerEnabled: false,
      demo: false,
    });
  });

  it('takes PORT, TASKER_SCHEMA and TASKER_WORKER_ENABLED', () => {
    expect(readServiceConfig({ DATABASE_URL: URL, PORT: '8080', TASKER_SCHEMA: 'ops', TASKER_WORKER_ENABLED: 'true' }, [])).toEqual({
      databaseUrl: URL,
      port: 8080,
      host: undefined,
      schema: 'ops',
      workerEnabled: true,
      demo: false,
    });
    expect(readServiceConfig({ DATABASE_URL: URL, PORT: '0' }, []).port).toBe(0);
    expect(readServiceConfig({ DATABASE_URL: URL, PORT: '65535' }, []).port).toBe(65535);
  });

  it('takes HOST, the address to listen on (unset or empty: every interface); refuses one that is not an address', () => {
    expect(readServiceConfig({ DATABASE_URL: URL, HOST: '127.0.0.1' }, []).host).toBe('127.0.0.1');
    expect(readServiceConfig({ DATABASE_URL: URL, HOST: ' ::1 ' }, []).host).toBe('::1');
    expect(readServiceConfig({ DATABASE_URL: URL, HOST: 'admin.internal' }, []).host).toBe('admin.internal');
    expect(readServiceConfig({ DATABASE_URL: URL, HOST: '' }, []).host).toBeUndefined();
    expect(() => readServiceConfig({ DATABASE_URL: URL, HOST: 'http://x/' }, [])).toThrow(
      'HOST must be an address or host name to listen on (e.g. 127.0.0.1, ::1, 0.0.0.0), got "http://x/".',
    );
  });

  it('requires DATABASE_URL outside demo mode, saying how to run the demo', () => {
    const message =
      'DATABASE_URL is required (postgres://user:password@host:5432/db). For a local demo with an embedded Postgres, run `npm start`.';
    expect(() => readServiceConfig({}, [])).toThrow(message);
    expect(() => readServiceConfig({ DATABASE_URL: '' }, [])).toThrow(message);
  });

  it('demo mode (--demo) needs no DATABASE_URL and runs a worker unless told otherwise', () => {
    expect(readServiceConfig({}, ['node', 'main.js', '--demo'])).toEqual({
      databaseUrl: undefined,
      port: 3000,
      schema: undefined,
      workerEnabled: true,
      demo: true,
    });
    expect(readServiceConfig({ TASKER_WORKER_ENABLED: 'false' }, ['--demo']).workerEnabled).toBe(false);
  });

  it('refuses a PORT that is not a port number, quoting it', () => {
    for (const port of ['abc', '-1', '65536', '80.5', '3000abc']) {
      expect(() => readServiceConfig({ DATABASE_URL: URL, PORT: port }, [])).toThrow(`PORT must be a port number, got "${port}".`);
    }
  });

  it('refuses a TASKER_WORKER_ENABLED other than true or false', () => {
    for (const v of ['yes', '1', 'TRUE', '']) {
      expect(() => readServiceConfig({ DATABASE_URL: URL, TASKER_WORKER_ENABLED: v }, [])).toThrow('TASKER_WORKER_ENABLED must be true or false.');
    }
  });

  it('treats an empty TASKER_SCHEMA or PORT as unset (an empty PORT is not port 0, a random port)', () => {
    expect(readServiceConfig({ DATABASE_URL: URL, TASKER_SCHEMA: '' }, []).schema).toBeUndefined();
    expect(readServiceConfig({ DATABASE_URL: URL, PORT: '' }, []).port).toBe(3000);
    expect(readServiceConfig({ DATABASE_URL: URL, PORT: '  ' }, []).port).toBe(3000);
  });
});
