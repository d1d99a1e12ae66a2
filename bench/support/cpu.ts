/**
 * CPU time (user + system) of processes on this machine, from /proc: the worker processes and the
 * PostgreSQL backends serving the bench's database. On a machine shared with other work the clock
 * of a drain says more about the neighbours than about the engine; the CPU it took does not.
 */
import { readFileSync } from 'node:fs';
import type { Client } from 'pg';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU milliseconds used so far by the process, or undefined when there is no such process here. */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('postgres');
  } catch {
    return false;
  }
}

export interface CpuMeter {
  /** CPU ms used since the meter was made by the given processes and by every backend of the database (but this client's). */
  read(): Promise<number>;
  /** The same, split: the given processes, and the database's backends. */
  readSplit(): Promise<{ processes: number; database: number }>;
}

/** A meter of `pids` and the database's backends, or undefined when the server's backends are not processes of this machine. */
export async function cpuMeter(pg: Client, pids: number[]): Promise<CpuMeter | undefined> {
  const self = (await pg.query('SELECT pg_backend_pid() AS p')).rows[0].p as number;
  if (!isPostgres(self)) return undefined;
  const backends = async () =>
    (await pg.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map((r) => r.pid as number);
  const snapshot = async () => {
    const m = new Map<number, number>();
    for (const pid of [...pids, ...(await backends())]) {
      const c = cpuMs(pid);
      if (c !== undefined) m.set(pid, c);
    }
    return m;
  };
  const start = await snapshot();
  const readSplit = async () => {
    const split = { processes: 0, database: 0 };
    // A backend that appeared meanwhile (the pool grew) counts from its start.
    for (const [pid, c] of await snapshot()) split[pids.includes(pid) ? 'processes' : 'database'] += c - (start.get(pid) ?? 0);
    return split;
  };
  return {
    async read() {
      const s = await readSplit();
      return s.processes + s.database;
    },
    readSplit,
  };
}
