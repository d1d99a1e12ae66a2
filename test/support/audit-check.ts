import type { AuditEntry, TaskDetail, TaskerService } from 'nestjs-tasker';
import { canStepMove, canTaskMove, TaskState } from '../../libs/tasker/src/state/states';

/**
 * Checks a task's audit trail against its current state: the trail opens with the task's
 * creation (null → pending); each entity's (the task's, each step's) transitions form an
 * unbroken chain of legal moves (canTaskMove / canStepMove), in time order, from its first state
 * to the state it is in now (a map step whose view is `error` because an instance failed for good
 * is still `waiting` in its own trail). Returns the trail for further assertions.
 */
export async function expectConsistentAuditTrail(tasker: TaskerService, task: TaskDetail): Promise<AuditEntry[]> {
  const trail = await tasker.getAuditTrail(task.id);
  expect(trail.length).toBeGreaterThan(0);
  expect(trail[0]).toMatchObject({ taskId: task.id, stepName: null, from: null, to: 'pending' });

  const problems: string[] = [];
  const chains = new Map<string, AuditEntry[]>();
  for (const e of trail) {
    if (e.taskId !== task.id) problems.push(`entry of another task: ${JSON.stringify(e)}`);
    if (!(e.at instanceof Date) || Number.isNaN(e.at.getTime())) problems.push(`entry without a time: ${JSON.stringify(e)}`);
    const key = e.stepName ?? '';
    chains.set(key, [...(chains.get(key) ?? []), e]);
  }

  const stepNames = new Set(task.steps.map((s) => s.name));
  for (const [key, entries] of chains) {
    const isTask = key === '';
    if (!isTask && !stepNames.has(key)) problems.push(`transition of an unknown step "${key}"`);
    let state: string | null = isTask ? null : 'pending';
    let at = 0;
    for (const e of entries) {
      const who = isTask ? 'task' : `step ${key}`;
      if (e.from !== state) problems.push(`${who}: ${e.from} → ${e.to} does not follow its previous state ${state}`);
      const legal = e.from === null ? isTask && e.to === 'pending' : isTask ? canTaskMove(e.from as TaskState, e.to as TaskState) : canStepMove(e.from, e.to);
      if (!legal) problems.push(`${who}: illegal transition ${e.from} → ${e.to}`);
      if (e.at.getTime() < at) problems.push(`${who}: ${e.from} → ${e.to} is dated before the transition that preceded it`);
      at = e.at.getTime();
      state = e.to;
    }
    const step = isTask ? undefined : task.steps.find((s) => s.name === key);
    const now = isTask ? task.state : step?.state;
    // A map step's view shows error as soon as an instance failed for good, while the step itself
    // still waits for its instances (its own last transition is to waiting).
    const mapInError = step?.instances && state === 'waiting' && now === 'error' && step.instances.failed > 0;
    if (state !== now && !mapInError) problems.push(`${isTask ? 'task' : `step ${key}`}: trail ends in ${state} but it is ${now}`);
  }
  // A step that never moved has no chain; it must still be pending.
  for (const s of task.steps) {
    if (!chains.has(s.name) && s.state !== 'pending') problems.push(`step ${s.name} is ${s.state} without any recorded transition`);
  }
  expect(problems).toEqual([]);
  return trail;
}

/** For a task that settled by itself (complete / error): the very last transition is the task's own. */
export function expectTrailEndsWithTask(trail: AuditEntry[], state: string): void {
  expect(trail[trail.length - 1]).toMatchObject({ stepName: null, to: state });
}
