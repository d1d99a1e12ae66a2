// One child process = one peer x one workload (all its runs). Started by run.mjs with a JSON
// config as its only argument; reports every run over IPC, so the parent keeps the finished runs
// even if a later one hangs and is killed.
import { pathToFileURL } from 'node:url';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cfg = JSON.parse(process.argv[2]);
const send = (msg) => new Promise((resolve) => process.send(msg, () => resolve()));

let driver;
await send({ type: 'hello', node: process.version });
try {
  const mod = await import(pathToFileURL(join(here, '..', 'peers', `${cfg.peer}.mjs`)).href);
  driver = await mod.create({ url: cfg.url, concurrency: cfg.concurrency });
  const { kind, size } = cfg.workload;
  // Latency workloads: untimed runs first (JIT, query plans, pool connections) for at least half a
  // second of work, at least one, as Tasker's side does.
  if (kind === 'chain' || kind === 'fanout') {
    const until = Date.now() + 500;
    do await (kind === 'chain' ? driver.chain(size) : driver.fanout(size));
    while (Date.now() < until);
  }
  for (let r = 0; r < cfg.runs; r++) {
    let value;
    if (kind === 'jobs') {
      const ms = await driver.jobs(size);
      value = size / (ms / 1000);
    } else if (kind === 'chain') {
      const ms = await driver.chain(size);
      value = ms / size;
    } else if (kind === 'fanout') {
      value = await driver.fanout(size);
    } else {
      throw new Error(`unknown workload kind ${kind}`);
    }
    await send({ type: 'run', value });
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
