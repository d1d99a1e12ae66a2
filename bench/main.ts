/**
 * `npm run bench`: every workload of issue 4 against Tasker, on a database of its own (on the
 * server of DATABASE_URL, or an embedded one started by scripts/with-postgres.mjs). Prints a table
 * (median of the runs, min–max, the target) and writes it as JSON. Asserts nothing about time.
 *
 * Options: --suite all|peers|sql|throughput|latency|memory|scale|dynamic|flow|ops (default all), --runs N (3),
 * --scale F (sizes × F when F < 1, ÷ F when F > 1: 0.1 and 10 both mean a tenth, for a quick try), --only w1,w2 (workload names),
 * --json path (default bench/results/tasker.json).
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchOptions, startBenchApp } from './support/app';
import { describeHost, HostReference, hostReference } from './support/host';
import { connect, createBenchDatabase } from './support/database';
import { Result, table } from './support/stats';
import { BenchContext, Workload } from './workloads/context';
import { mapWorkload, signalWorkload } from './workloads/dynamic';
import { cronWorkload, keyedWorkload, ratedWorkload } from './workloads/peers-flow';
import { claimLimitedWorkload, dagLimitedWorkload, jobsPriorityWorkload } from './workloads/flow';
import { chainWorkload, createWorkload, fanOutWorkload } from './workloads/latency';
import { memoryWorkload } from './workloads/memory';
import { purgeWorkload } from './workloads/purge';
import { historyWorkload, readinessWorkload } from './workloads/sql';
import { dagWorkload, jobsWorkload, scaleOutWorkload } from './workloads/throughput';
import {
  chain,
  childHold,
  childParent,
  dag10,
  dag10Keyed,
  dag10Rated,
  fanOut,
  job,
  jobKeyed,
  jobRated,
  layered,
  mapJoin,
  mapRange,
  signalWait,
  sleeper,
} from './workflows';

const WORKLOADS: Workload[] = [
  readinessWorkload,
  historyWorkload,
  chainWorkload,
  fanOutWorkload(50),
  fanOutWorkload(500, 250),
  createWorkload,
  jobsWorkload(2_000),
  jobsWorkload(10_000),
  dagWorkload,
  memoryWorkload,
  scaleOutWorkload,
  mapWorkload,
  signalWorkload,
  claimLimitedWorkload,
  dagLimitedWorkload,
  jobsPriorityWorkload,
  keyedWorkload,
  ratedWorkload,
  cronWorkload(),
  purgeWorkload,
];

/** A mistake in how the bench was called: its message is all the user needs (no stack trace). */
class UsageError extends Error {}

const USAGE = `usage: npm run bench -- [--suite all|peers|sql|throughput|latency|memory|scale|dynamic|flow|ops] [--only w1,w2] [--runs N] [--scale F] [--json FILE]
workloads (for --only): ${WORKLOADS.map((w) => w.name).join(', ')}`;

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        suite: { type: 'string', default: 'all' },
        runs: { type: 'string', default: '3' },
        scale: { type: 'string', default: '1' },
        only: { type: 'string' },
        json: { type: 'string', default: join(__dirname, 'results', 'tasker.json') },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const runs = Number(values.runs);
  const scale = Number(values.scale);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a whole number of at least 1, not "${values.runs}"\n${USAGE}`);
  if (!(scale > 0)) throw new UsageError(`--scale must be a positive number, not "${values.scale}"\n${USAGE}`);
  return { ...values, runs, scale };
}

async function main(): Promise<void> {
  const values = options();
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new UsageError('DATABASE_URL is not set: run the bench with `npm run bench` (it starts a database when none is given).');
  const only = values.only?.split(',');
  const chosen = WORKLOADS.filter((w) => (only ? only.includes(w.name) : values.suite === 'all' || w.suites.includes(values.suite!)));
  if (chosen.length === 0) throw new UsageError(`no workload matches --suite ${values.suite} --only ${values.only ?? ''}\n${USAGE}`);

  const db = await createBenchDatabase(serverUrl);
  const pg = await connect(db.url);
  const control = await startBenchApp(benchOptions(db.url, { enabled: false }), [
    job(),
    dag10(),
    dag10Keyed(),
    dag10Rated(),
    jobKeyed(),
    jobRated(),
    chain(20),
    fanOut(50),
    fanOut(500),
    layered(1_000),
    layered(10_000),
    sleeper(),
    mapJoin(),
    mapRange(),
    signalWait(),
    childHold(),
    childParent(),
  ]);
  const ctx: BenchContext = {
    databaseUrl: db.url,
    control,
    pg,
    runs: values.runs,
    scale: values.scale < 1 ? 1 / values.scale : values.scale,
    log: (line) => process.stderr.write(`  ${line}\n`),
  };
  const results: Result[] = [];
  const reference: { before?: HostReference; after?: HostReference } = {};
  try {
    reference.before = await hostReference(pg);
    process.stderr.write(`host reference before: ${describeHost(reference.before)}\n`);
    for (const w of chosen) {
      process.stderr.write(`${w.name}…\n`);
      results.push(...(await w.run(ctx)));
    }
    reference.after = await hostReference(pg);
  } finally {
    await control.close();
    await pg.end();
    await db.drop();
  }
  const server = await connect(serverUrl);
  const version = (await server.query('SHOW server_version')).rows[0].server_version as string;
  await server.end();
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, postgres: version, reference };
  console.log(`\nTasker bench — ${machine.cpus} CPUs, Node ${machine.node}, PostgreSQL ${machine.postgres}, runs: ${ctx.runs}, scale: 1/${ctx.scale}`);
  // Fixed work no change of Tasker touches: compare it between runs before comparing their figures.
  console.log(`host reference (lower is faster), before: ${describeHost(reference.before!)}; after: ${describeHost(reference.after!)}\n`);
  console.log(table(results));
  mkdirSync(dirname(values.json!), { recursive: true });
  const pkg = require('../package.json') as { version: string };
  writeFileSync(
    values.json!,
    JSON.stringify({ machine, runs: ctx.runs, scale: ctx.scale, systems: [{ system: 'tasker', version: pkg.version, settings: 'see bench/README.md', results }] }, null, 2),
  );
  console.log(`\nwritten to ${values.json}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof UsageError ? e.message : e);
    process.exit(1);
  },
);
