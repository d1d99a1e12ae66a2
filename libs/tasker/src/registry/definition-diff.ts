import type { StoredDefinition } from './handler-definition';

type StoredStep = StoredDefinition['steps'][number];

/** The step settings that fix a version (as register_task_type compares them), with how to read each. */
const FIXED: { key: string; of: (s: StoredStep) => unknown }[] = [
  { key: 'dependsOn', of: (s) => [...s.dependsOn].sort() },
  { key: 'retryLimit', of: (s) => s.retryLimit },
  { key: 'retryable', of: (s) => s.retryable },
  { key: 'timeoutMs', of: (s) => s.timeoutMs ?? null },
  { key: 'runIf', of: (s) => (s as { condition?: boolean }).condition === true },
  { key: 'map', of: (s) => (s as { map?: boolean }).map === true },
  { key: 'maxParallel', of: (s) => (s as { maxParallel?: number | null }).maxParallel ?? null },
];

/**
 * How the steps of a definition (`here`) differ from the one recorded for the same version
 * (`recorded`), one phrase per difference; empty when they define the same steps. Descriptions,
 * concurrency and rate limits and backoff are not compared: they may change within a version. Pure.
 */
export function definitionDifferences(recorded: StoredDefinition, here: StoredDefinition): string[] {
  const out: string[] = [];
  const before = recorded.steps.map((s) => s.name);
  const now = here.steps.map((s) => s.name);
  const removed = before.filter((n) => !now.includes(n));
  const added = now.filter((n) => !before.includes(n));
  if (removed.length) out.push(`steps ${list(removed)} are recorded but not here`);
  if (added.length) out.push(`steps ${list(added)} are here but not recorded`);
  const common = now.filter((n) => before.includes(n));
  if (!removed.length && !added.length && before.join('\u0000') !== now.join('\u0000')) {
    out.push(`the steps are in another order (recorded: ${list(before)}; here: ${list(now)})`);
  }
  for (const name of common) {
    const a = recorded.steps.find((s) => s.name === name)!;
    const b = here.steps.find((s) => s.name === name)!;
    for (const f of FIXED) {
      const [x, y] = [JSON.stringify(f.of(a)), JSON.stringify(f.of(b))];
      if (x !== y) out.push(`step "${name}": ${f.key} is ${x} recorded, ${y} here`);
    }
  }
  return out;
}

const list = (names: string[]) => names.map((n) => `"${n}"`).join(', ');

