// Small helpers shared by the peer drivers (they run in the child processes).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export const now = () => performance.now();

const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` (an async predicate, usually a SQL query) until it returns true.
 * Not a fixed sleep: it returns as soon as the condition holds, `intervalMs` is only the
 * pause between two checks. Throws after `timeoutMs`.
 */
export async function waitFor(check, { intervalMs = 2, timeoutMs = 600_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick(intervalMs);
  }
}

/**
 * Counts handler invocations in this process. `reach(n)` resolves once the count reaches n.
 * Used only as a cheap hint: the drivers still confirm completion in the database, but they
 * start polling it only when the handlers have all run, so the polling does not load the
 * server during the measured drain.
 */
export class Counter {
  #count = 0;
  #waiters = [];
  get count() {
    return this.#count;
  }
  inc(by = 1) {
    this.#count += by;
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#count >= w.n) {
        w.resolve();
        return false;
      }
      return true;
    });
  }
  reach(n) {
    if (this.#count >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }
}

/** A one-shot signal keyed by a string (e.g. "the final step of run 3 ran"). */
export class Signals {
  #done = new Set();
  #waiters = new Map();
  fire(key) {
    this.#done.add(key);
    const w = this.#waiters.get(key);
    if (w) {
      this.#waiters.delete(key);
      w.forEach((resolve) => resolve());
    }
  }
  wait(key) {
    if (this.#done.has(key)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.#waiters.get(key) ?? [];
      list.push(resolve);
      this.#waiters.set(key, list);
    });
  }
}

/** Runs `fn` over `items` with at most `limit` in flight (for peers without a bulk enqueue API). */
export async function mapLimit(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const chunks = (arr, size) => {
  const out = [];
  for (let i = 0; i < arr.length; i += size) out.push(arr.slice(i, i + size));
  return out;
};

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Handlers running per key now, and the most seen at once per key (the concurrency-limit check). */
export class KeyTracker {
  #now = new Map();
  #max = new Map();
  enter(key) {
    const n = (this.#now.get(key) ?? 0) + 1;
    this.#now.set(key, n);
    if (n > (this.#max.get(key) ?? 0)) this.#max.set(key, n);
  }
  leave(key) {
    this.#now.set(key, this.#now.get(key) - 1);
  }
  /** The largest number of handlers of one key seen at once (0 when none ran). */
  get max() {
    return Math.max(0, ...this.#max.values());
  }
  reset() {
    this.#now.clear();
    this.#max.clear();
  }
}

/** p-th percentile (nearest rank) of a list of numbers. */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * How a rate limit of `limit` starts per second held, from the start instants (ms) of n jobs:
 * `rate` = starts after the first second's `limit` over the time they took (the limit itself when
 * it is held exactly), `maxPerSecond` = the most starts in any window of 1,000 ms, `excess` = that
 * minus the limit (0 when held).
 */
export function rateFigures(starts, limit) {
  const s = [...starts].sort((a, b) => a - b);
  let maxPerSecond = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    while (s[j] < s[i] - 1000 + 1e-9) j++;
    maxPerSecond = Math.max(maxPerSecond, i - j + 1);
  }
  const span = (s[s.length - 1] - s[0]) / 1000;
  const rate = span > 0 ? (s.length - Math.min(limit, s.length)) / span : Infinity;
  return { rate, maxPerSecond, excess: Math.max(0, maxPerSecond - limit) };
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU milliseconds used so far by a process of this machine (from /proc), or undefined. */
function procCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/**
 * CPU of a timed window, measured as Tasker's bench measures its drains (bench/support/cpu.ts):
 * this process (the peer's worker), and every backend of the peer's database. `start()` before the
 * window, `stop()` right after it; `result` is then { workerMs, databaseMs }, or undefined when
 * the server's backends are not processes of this machine.
 */
export function cpuMeter(pg, url) {
  let client;
  let begin;
  const meter = {
    result: undefined,
    async start() {
      client = new pg.Client({ connectionString: url });
      await client.connect();
      const self = (await client.query('SELECT pg_backend_pid() AS p')).rows[0].p;
      if (!readCmdline(self).startsWith('postgres')) return;
      begin = { worker: process.cpuUsage(), backends: await backendCpu(client) };
    },
    async stop() {
      if (!client) return;
      if (begin) {
        const worker = process.cpuUsage(begin.worker);
        let databaseMs = 0;
        // A backend that appeared meanwhile (a pool grew) counts from its start.
        for (const [pid, ms] of await backendCpu(client)) databaseMs += ms - (begin.backends.get(pid) ?? 0);
        meter.result = { workerMs: (worker.user + worker.system) / 1000, databaseMs };
      }
      await client.end();
      client = undefined;
    },
  };
  return meter;
}

function readCmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

async function backendCpu(client) {
  const pids = (await client.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map((r) => r.pid);
  const m = new Map();
  for (const pid of pids) {
    const c = procCpuMs(pid);
    if (c !== undefined) m.set(pid, c);
  }
  return m;
}
