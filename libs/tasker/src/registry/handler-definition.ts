import type { BackoffOptions } from '../interfaces/backoff-options.interface';
import type { StepOptions } from '../interfaces/handler-options.interface';

export interface StepDefinition {
  name: string;
  /** The handler method that runs the step. */
  methodName: string;
  description?: string;
  dependsOn: string[];
  retryLimit: number;
  retryable: boolean;
  timeoutMs?: number;
  backoff: BackoffOptions;
  runIf?: StepOptions['runIf'];
  map?: StepOptions['map'];
  maxParallel?: number;
  concurrency?: { key: string | null; limit: number };
  rateLimit?: { bucket: string; limit: number; periodMs: number; key: string | null };
}

/** A task type as this process knows it: steps in topological order plus the code to run them. */
export interface HandlerDefinition {
  namespace: string;
  name: string;
  version: string;
  description?: string;
  steps: StepDefinition[];
  contextDto?: new (...args: any[]) => object;
  /** Cron schedules, validated (expression normalized, zone filled in). */
  schedules?: ScheduleDefinition[];
  concurrency?: { key: string | null; limit: number };
  /** The handler instance; absent for types only known from the database. */
  instance?: Record<string, unknown>;
}

/** A validated schedule: its cron expression with single spaces, its time zone, the context of its tasks. */
export interface ScheduleDefinition {
  cron: string;
  timezone: string;
  context: Record<string, unknown>;
}

export function handlerKey(namespace: string, name: string, version: string): string {
  return `${namespace}/${name}@${version}`;
}

/** The JSON stored in the database for a task type; enough to create tasks without the code. */
export function toStoredDefinition(def: HandlerDefinition) {
  return {
    namespace: def.namespace,
    name: def.name,
    version: def.version,
    description: def.description ?? null,
    steps: def.steps.map((s) => ({
      name: s.name,
      description: s.description ?? null,
      dependsOn: s.dependsOn,
      retryLimit: s.retryLimit,
      retryable: s.retryable,
      timeoutMs: s.timeoutMs ?? null,
      backoff: s.backoff,
      // What the code decides at run time, so that a process without it (the admin service) shows it.
      ...(s.runIf ? { condition: true } : {}),
      ...(s.map ? { map: true, maxParallel: s.maxParallel ?? null } : {}),
      ...(s.concurrency ? { concurrency: s.concurrency } : {}),
      ...(s.rateLimit ? { rateLimit: s.rateLimit } : {}),
    })),
    ...(def.concurrency ? { concurrency: def.concurrency } : {}),
  };
}
export type StoredDefinition = ReturnType<typeof toStoredDefinition>;
