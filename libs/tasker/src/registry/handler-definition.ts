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
}

/** A task type as this process knows it: steps in topological order plus the code to run them. */
export interface HandlerDefinition {
  namespace: string;
  name: string;
  version: string;
  description?: string;
  steps: StepDefinition[];
  contextDto?: new (...args: any[]) => object;
  /** The handler instance; absent for types only known from the database. */
  instance?: Record<string, unknown>;
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
    })),
  };
}
export type StoredDefinition = ReturnType<typeof toStoredDefinition>;
