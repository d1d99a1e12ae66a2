/**
 * The flow-control limits of the `flow` task types (test/fixtures/flow-control.workflows.ts), checked
 * over a history of transitions with the limits checker: which group each attempt, start and task
 * belongs to, with the limits the decorators declare.
 */
import { FLOW_LIMITS } from '../fixtures/flow-control.workflows';
import {
  concurrencyViolations,
  Hold,
  keyValue,
  maxRunning,
  OverLimit,
  OverRate,
  rateViolations,
  Start,
  stepHolds,
  stepRuns,
  stepStarts,
  taskHolds,
  taskRuns,
  Transition,
} from './limits-checker';

/** What the checker needs of a task: its type, its context, and the concurrencyKey it was created with, if any. */
export interface FlowTask {
  id: string;
  name: string;
  context: Record<string, unknown>;
  concurrencyKey?: string;
}

export interface FlowLimitsReport {
  concurrency: OverLimit[];
  rate: OverRate[];
  stepHolds: Hold[];
  taskHolds: Hold[];
  starts: Start[];
  /** The most holders each group had at once (steps and tasks). */
  maxRunning: Map<string, number>;
}

const STEP_LIMITS: Record<string, { key?: string; limit: number }> = {
  'crm_sync.call_crm': FLOW_LIMITS.crmCall,
  'crm_sync.export': FLOW_LIMITS.crmExport,
};
const RATE_LIMITS: Record<string, { bucket: string; limit: number; periodMs: number; key?: string }> = {
  'payments.charge': FLOW_LIMITS.stripe,
  'refunds.refund': FLOW_LIMITS.stripe,
  'throttled.call': FLOW_LIMITS.slowApi,
};
const TASK_LIMITS: Record<string, { key?: string; limit: number }> = {
  account_sync: FLOW_LIMITS.accountSync,
  nightly_batch: FLOW_LIMITS.nightlyBatch,
};
const limitOf = (table: Record<string, { limit: number }>) => (group: string) => table[group.slice(0, group.indexOf(':'))].limit;

/** Every excess of the flow types' limits in a history; rate groups are named `<bucket>:<key value>`. */
export function checkFlowLimits(tasks: FlowTask[], transitions: Transition[]): FlowLimitsReport {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const runs = stepRuns(transitions.filter((t) => byId.has(t.taskId)));
  const sHolds = stepHolds(runs, (r) => {
    const task = byId.get(r.taskId)!;
    const lim = STEP_LIMITS[`${task.name}.${r.step}`];
    return lim && `${task.name}.${r.step}:${keyValue(task.context, 'key' in lim ? lim.key : undefined)}`;
  });
  const rateOf = new Map<string, { limit: number; periodMs: number }>();
  const starts = stepStarts(runs, (r) => {
    const task = byId.get(r.taskId)!;
    const lim = RATE_LIMITS[`${task.name}.${r.step}`];
    if (!lim) return undefined;
    const group = `${lim.bucket}:${keyValue(task.context, lim.key)}`;
    rateOf.set(group, lim);
    return group;
  });
  const tHolds = taskHolds(taskRuns(transitions.filter((t) => byId.has(t.taskId))), (id) => {
    const task = byId.get(id)!;
    const lim = TASK_LIMITS[task.name];
    return lim && `${task.name}:${task.concurrencyKey ?? keyValue(task.context, lim.key)}`;
  });
  return {
    concurrency: [...concurrencyViolations(sHolds, limitOf(STEP_LIMITS)), ...concurrencyViolations(tHolds, limitOf(TASK_LIMITS))],
    rate: rateViolations(
      starts,
      (g) => rateOf.get(g)!.limit,
      (g) => rateOf.get(g)!.periodMs,
    ),
    stepHolds: sHolds,
    taskHolds: tHolds,
    starts,
    maxRunning: new Map([...maxRunning(sHolds), ...maxRunning(tHolds)]),
  };
}
