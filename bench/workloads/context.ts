import type { Client } from 'pg';
import type { BenchApp } from '../support/app';
import type { Result } from '../support/stats';

/** What every workload gets: the bench's database, a control app (no worker) and a psql-like client. */
export interface BenchContext {
  databaseUrl: string;
  /** Boots with every bench task type and `worker.enabled: false`: creates tasks, never runs them. */
  control: BenchApp;
  pg: Client;
  runs: number;
  /** Sizes are divided by it (quick trial runs). */
  scale: number;
  log(line: string): void;
}

export interface Workload {
  /** Suites the workload belongs to (`all` always runs everything). */
  suites: string[];
  name: string;
  run(ctx: BenchContext): Promise<Result[]>;
}

export const sized = (ctx: BenchContext, n: number) => Math.max(1, Math.round(n / ctx.scale));
