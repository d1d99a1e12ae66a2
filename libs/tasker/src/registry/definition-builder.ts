/** Turns decorator metadata into a validated HandlerDefinition. Pure: no Nest, no database. */
import { HandlerDefinitionError } from '../errors/boot.errors';
import type { StepOptions, TaskHandlerOptions } from '../interfaces/handler-options.interface';
import { backoffProblems, BackoffOptions } from '../orchestration/backoff';
import { DEFAULT_NAMESPACE, DEFAULT_VERSION, NAME_PATTERN } from '../tasker.constants';
import { describeDagProblem, findDagProblems, topologicalOrder } from './dag';
import { HandlerDefinition, StepDefinition } from './handler-definition';

export interface RawStep {
  methodName: string;
  options: StepOptions;
  dependsOn: string[];
}

export interface StepDefaults {
  retryLimit: number;
  backoff: BackoffOptions;
}


export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

export function buildHandlerDefinition(
  className: string,
  opts: TaskHandlerOptions,
  rawSteps: RawStep[],
  defaults: StepDefaults,
): HandlerDefinition {
  const where = `@TaskHandler ${className}`;
  const problems: string[] = [];
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  const version = opts.version ?? DEFAULT_VERSION;
  if (!isValidName(opts.name)) problems.push(`name must be 1-128 letters, digits, "_", ".", ":" or "-" (got ${JSON.stringify(opts.name)})`);
  if (!isValidName(namespace)) problems.push(`namespace must be 1-128 letters, digits, "_", ".", ":" or "-" (got ${JSON.stringify(namespace)})`);
  if (!isValidName(version)) problems.push(`version must be a string like "1.0.0" (got ${JSON.stringify(version)})`);
  if (opts.context !== undefined && typeof opts.context !== 'function') problems.push('context must be a class (a class-validator DTO)');

  const steps: StepDefinition[] = rawSteps.map((raw) => {
    const o = raw.options;
    const name = o.name ?? raw.methodName;
    const at = `step "${name}"`;
    if (!isValidName(name)) problems.push(`${at}: name must be 1-128 letters, digits, "_", ".", ":" or "-"`);
    if (o.retryLimit !== undefined && !(Number.isInteger(o.retryLimit) && o.retryLimit >= 1 && o.retryLimit <= 1000)) {
      problems.push(`${at}: retryLimit must be an integer from 1 to 1000 (total attempts), got ${o.retryLimit}`);
    }
    if (o.timeoutMs !== undefined && !(Number.isInteger(o.timeoutMs) && o.timeoutMs > 0 && o.timeoutMs <= 2_147_483_647)) {
      problems.push(`${at}: timeoutMs must be a positive integer of milliseconds, got ${o.timeoutMs}`);
    }
    if (o.retryable !== undefined && typeof o.retryable !== 'boolean') problems.push(`${at}: retryable must be a boolean`);
    problems.push(...backoffProblems(o.backoff ?? {}, `${at}: backoff`));
    for (const d of raw.dependsOn) if (typeof d !== 'string') problems.push(`${at}: @DependsOn takes step names (strings)`);
    const retryable = o.retryable ?? true;
    return {
      name,
      methodName: raw.methodName,
      description: o.description,
      dependsOn: [...new Set(raw.dependsOn)],
      retryable,
      retryLimit: retryable ? (o.retryLimit ?? defaults.retryLimit) : 1,
      timeoutMs: o.timeoutMs,
      backoff: { ...defaults.backoff, ...(o.backoff ?? {}) },
    };
  });

  for (const p of findDagProblems(steps)) problems.push(describeDagProblem(p));
  if (problems.length > 0) {
    throw new HandlerDefinitionError(
      `${where} (${namespace}/${String(opts.name)}@${version}) is invalid: ${problems.join('; ')}.`,
    );
  }
  const order = topologicalOrder(steps);
  const byName = new Map(steps.map((s) => [s.name, s]));
  return {
    namespace,
    name: opts.name,
    version,
    description: opts.description,
    contextDto: opts.context,
    steps: order.map((n) => byName.get(n)!),
  };
}

/**
 * Orders versions like semver where they are numeric ("1.10.0" > "1.9.0", "1.0.1" > "1.0"), else as
 * text; a release ranks above its pre-releases ("1.0.0" > "1.0.0-beta").
 */
export function compareVersions(a: string, b: string): number {
  const [coreA, tailA] = splitVersion(a);
  const [coreB, tailB] = splitVersion(b);
  for (let i = 0; i < Math.max(coreA.length, coreB.length); i++) {
    const c = compareVersionParts(coreA[i] ?? '0', coreB[i] ?? '0'); // a missing core part counts as 0
    if (c !== 0) return c;
  }
  if (tailA.length === 0 || tailB.length === 0) return tailB.length - tailA.length;
  for (let i = 0; i < Math.max(tailA.length, tailB.length); i++) {
    if (tailA[i] === undefined) return -1; // "1.0.0-beta" < "1.0.0-beta.1"
    if (tailB[i] === undefined) return 1;
    const c = compareVersionParts(tailA[i], tailB[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function splitVersion(v: string): [string[], string[]] {
  const at = v.search(/[-+]/);
  return at < 0 ? [v.split('.'), []] : [v.slice(0, at).split('.'), v.slice(at + 1).split(/[.+-]/)];
}

function compareVersionParts(x: string, y: string): number {
  if (x === y) return 0;
  if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
  return x < y ? -1 : 1;
}
