/** The admin microservice's settings, from the environment only. Pure: easy to test, clear errors. */
export interface ServiceConfig {
  databaseUrl?: string;
  port: number;
  /** The address to listen on; undefined: every interface (IPv4 and IPv6). */
  host?: string;
  schema?: string;
  /** Run a worker in this process (and the example workflow's handler in demo mode). */
  workerEnabled: boolean;
  /** `npm start`: embedded Postgres when no DATABASE_URL, a generated key, the example workflow. */
  demo: boolean;
}

export function readServiceConfig(env: NodeJS.ProcessEnv, argv: string[]): ServiceConfig {
  const demo = argv.includes('--demo');
  const port = Number(env.PORT?.trim() || 3000); // an empty PORT is unset, not port 0 (a random port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}".`);
  const host = env.HOST?.trim() || undefined;
  if (host !== undefined && !/^[\w.:%-]+$/.test(host)) throw new Error(`HOST must be an address or host name to listen on (e.g. 127.0.0.1, ::1, 0.0.0.0), got "${env.HOST}".`);
  if (!demo && !env.DATABASE_URL) {
    throw new Error('DATABASE_URL is required (postgres://user:password@host:5432/db). For a local demo with an embedded Postgres, run `npm start`.');
  }
  const worker = env.TASKER_WORKER_ENABLED;
  if (worker !== undefined && worker !== 'true' && worker !== 'false') throw new Error('TASKER_WORKER_ENABLED must be true or false.');
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    port,
    host,
    schema: env.TASKER_SCHEMA || undefined,
    workerEnabled: worker === undefined ? demo : worker === 'true',
    demo,
  };
}
