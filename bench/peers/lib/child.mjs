// One child process = one peer x one workload (all its runs). Started by run.mjs with a JSON
// config as its only argument; reports every run over IPC, so the parent keeps the finished runs
// even if a later one hangs and is killed.
import { pathToFileURL } from 'node:url';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMeter, percentile, rateFigures } from './util.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cfg = JSON.parse(process.argv[2]);
const send = (msg) => new Promise((resolve) => process.send(msg, () => resolve()));

let driver;
await send({ type: 'hello', node: process.version });
try {
  const mod = await import(pathToFileURL(join(here, '..', 'peers', `${cfg.peer}.mjs`)).href);
  driver = await mod.create({ url: cfg.url, concurrency: cfg.concurrency });
  const { kind, size, keys, limit, holdMs } = cfg.workload;
  // Latency workloads: untimed runs first (JIT, query plans, pool connections) for at least half a
  // second of work, at least one, as Tasker's side does. A map warms up on a tenth of its items.
  const warmUps = {
    chain: () => driver.chain(size),
    fanout: () => driver.fanout(size),
    map: () => driver.fanout(Math.max(1, Math.round(size / 10))),
    signal: () => driver.signal(20),
  };
  if (warmUps[kind]) {
    const until = Date.now() + 500;
    do await warmUps[kind]();
    while (Date.now() < until);
  }
  for (let r = 0; r < cfg.runs; r++) {
    let value;
    let extra;
    if (kind === 'keyed') {
      const { ms, maxPerKey } = await driver.keyed({ n: size, keys, limit, holdMs });
      value = size / (ms / 1000);
      extra = { maxPerKey, limit };
    } else if (kind === 'rated') {
      const { starts, ms } = await driver.rated({ n: size, limit });
      const f = rateFigures(starts, limit);
      value = f.rate;
      extra = { maxPerSecond: f.maxPerSecond, excess: f.excess, limit, ms: Math.round(ms) };
    } else if (kind === 'map') {
      value = await driver.fanout(size);
    } else if (kind === 'signal') {
      const lat = await driver.signal(size);
      value = percentile(lat, 50);
      extra = { p95: percentile(lat, 95) };
    } else if (kind === 'cron') {
      const late = await driver.cron(size);
      value = percentile(late, 50);
      extra = { fires: late.length, p95: percentile(late, 95), max: Math.max(...late) };
    } else if (kind === 'jobs') {
      const { default: pg } = await import('pg');
      const meter = cpuMeter(pg, cfg.url);
      const ms = await driver.jobs(size, meter);
      value = size / (ms / 1000);
      // CPU per job of the drain, as Tasker's bench reports it (absent where the server is not local).
      if (meter.result) extra = { workerUs: Math.round((meter.result.workerMs * 1000) / size), databaseUs: Math.round((meter.result.databaseMs * 1000) / size) };
    } else if (kind === 'chain') {
      const ms = await driver.chain(size);
      value = ms / size;
    } else if (kind === 'fanout') {
      value = await driver.fanout(size);
    } else {
      throw new Error(`unknown workload kind ${kind}`);
    }
    await send({ type: 'run', value, extra });
  }
  await driver.close();
  driver = undefined;
  await send({ type: 'done' });
  process.exit(0);
} catch (err) {
  await send({ type: 'error', message: String(err?.stack ?? err) });
  try {
    await driver?.close();
  } catch {
    // the parent drops the database anyway
  }
  process.exit(1);
}
