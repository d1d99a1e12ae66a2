/**
 * TypeORM entity schemas of Tasker's tables, for apps that want to read them with their own
 * DataSource (reports, retention jobs). Built per schema because the schema is configurable.
 * Tasker itself writes through its SQL functions, never through these; treat them as read-only.
 */
import { EntitySchema, EntitySchemaColumnOptions } from 'typeorm';

const id = (type: 'int' | 'bigint'): EntitySchemaColumnOptions => ({ type, primary: true, generated: 'increment' });
const col = (type: EntitySchemaColumnOptions['type'], extra: Partial<EntitySchemaColumnOptions> = {}): EntitySchemaColumnOptions => ({
  type,
  ...extra,
});
const nullable = (type: EntitySchemaColumnOptions['type'], name?: string): EntitySchemaColumnOptions => ({ type, nullable: true, ...(name ? { name } : {}) });
const at = (name: string, isNullable = false): EntitySchemaColumnOptions => ({ type: 'timestamptz', name, nullable: isNullable });

export interface TaskerTaskRecord {
  id: string;
  namedTaskId: number;
  namespace: string;
  name: string;
  version: string;
  state: string;
  context: Record<string, unknown>;
  tags: string[];
  initiator: string | null;
  sourceSystem: string | null;
  reason: string | null;
  idempotencyKey: string | null;
  runAt: Date | null;
  traceContext: Record<string, string> | null;
  stepsTotal: number;
  stepsDone: number;
  stepsFailed: number;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface TaskerStepRecord {
  id: string;
  taskId: string;
  namedTaskId: number;
  namedStepId: number | null;
  name: string;
  position: number;
  state: string;
  attempts: number;
  retryLimit: number;
  retryable: boolean;
  exhausted: boolean;
  timeoutMs: number | null;
  backoff: Record<string, unknown>;
  parentsTotal: number;
  parentsDone: number;
  availableAt: Date;
  leaseOwner: string | null;
  leaseToken: string | null;
  leaseExpiresAt: Date | null;
  results: unknown;
  lastError: Record<string, unknown> | null;
  startedAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A row of `task_transitions`. A task's start by its first claim and its completion by its last
 * step's success are not rows here: they are stored in that step's transition
 * (`TaskerStepTransitionRecord.taskTo`). The `Transition` entity (the `transitions` view) reads the
 * whole trail.
 */
export interface TaskerTransitionRecord {
  id: string;
  taskId: string;
  fromState: string | null;
  toState: string;
  actor: string | null;
  reason: string | null;
  createdAt: Date;
}

export interface TaskerStepTransitionRecord extends TaskerTransitionRecord {
  stepId: string;
  stepName: string;
  attempt: number | null;
  error: Record<string, unknown> | null;
  nextRetryAt: Date | null;
  durationMs: number | null;
  /** The task's move this step's transition caused, when there was one: its own transition id, from, to. */
  taskTransitionId: string | null;
  taskFrom: string | null;
  taskTo: string | null;
}

/** A row of the `transitions` view: one transition of the audit trail, a task's (`kind` 'task') or a step's. */
export interface TaskerAuditRecord {
  kind: 'task' | 'step';
  id: string;
  taskId: string;
  stepId: string | null;
  stepName: string | null;
  fromState: string | null;
  toState: string;
  attempt: number | null;
  actor: string | null;
  reason: string | null;
  error: Record<string, unknown> | null;
  nextRetryAt: Date | null;
  durationMs: number | null;
  createdAt: Date;
}

/** Entity schemas for every Tasker table in `schema`; names are prefixed `Tasker` to stay clear of yours. */
export function taskerEntities(schema = 'tasker') {
  const Namespace = new EntitySchema<{ id: number; name: string; createdAt: Date }>({
    name: 'TaskerNamespace',
    tableName: 'namespaces',
    schema,
    columns: { id: id('int'), name: col('text'), createdAt: at('created_at') },
  });
  const NamedTask = new EntitySchema<{ id: number; namespaceId: number; name: string; version: string; description: string | null; definition: unknown; createdAt: Date; updatedAt: Date }>({
    name: 'TaskerNamedTask',
    tableName: 'named_tasks',
    schema,
    columns: {
      id: id('int'),
      namespaceId: col('int', { name: 'namespace_id' }),
      name: col('text'),
      version: col('text'),
      description: nullable('text'),
      definition: col('jsonb'),
      createdAt: at('created_at'),
      updatedAt: at('updated_at'),
    },
  });
  const NamedStep = new EntitySchema<{ id: number; namedTaskId: number; name: string; position: number; description: string | null; retryLimit: number; retryable: boolean; timeoutMs: number | null; backoff: unknown; parentsTotal: number }>({
    name: 'TaskerNamedStep',
    tableName: 'named_steps',
    schema,
    columns: {
      id: id('int'),
      namedTaskId: col('int', { name: 'named_task_id' }),
      name: col('text'),
      position: col('int'),
      description: nullable('text'),
      retryLimit: col('int', { name: 'retry_limit' }),
      retryable: col('boolean'),
      timeoutMs: nullable('int', 'timeout_ms'),
      backoff: col('jsonb'),
      parentsTotal: col('int', { name: 'parents_total' }),
    },
  });
  const NamedStepEdge = new EntitySchema<{ namedTaskId: number; fromNamedStepId: number; toNamedStepId: number; fromPosition: number; toPosition: number }>({
    name: 'TaskerNamedStepEdge',
    tableName: 'named_step_edges',
    schema,
    columns: {
      namedTaskId: col('int', { name: 'named_task_id', primary: true }),
      fromNamedStepId: col('int', { name: 'from_named_step_id', primary: true }),
      toNamedStepId: col('int', { name: 'to_named_step_id', primary: true }),
      fromPosition: col('int', { name: 'from_position' }),
      toPosition: col('int', { name: 'to_position' }),
    },
  });
  const Task = new EntitySchema<TaskerTaskRecord>({
    name: 'TaskerTask',
    tableName: 'tasks',
    schema,
    columns: {
      id: id('bigint'),
      namedTaskId: col('int', { name: 'named_task_id' }),
      namespace: col('text'),
      name: col('text'),
      version: col('text'),
      state: col('text'),
      context: col('jsonb'),
      tags: col('text', { array: true }),
      initiator: nullable('text'),
      sourceSystem: nullable('text', 'source_system'),
      reason: nullable('text'),
      idempotencyKey: nullable('text', 'idempotency_key'),
      runAt: at('run_at', true),
      traceContext: nullable('jsonb', 'trace_context'),
      stepsTotal: col('int', { name: 'steps_total' }),
      stepsDone: col('int', { name: 'steps_done' }),
      stepsFailed: col('int', { name: 'steps_failed' }),
      createdAt: at('created_at'),
      updatedAt: at('updated_at'),
      completedAt: at('completed_at', true),
    },
  });
  const WorkflowStep = new EntitySchema<TaskerStepRecord>({
    name: 'TaskerWorkflowStep',
    tableName: 'workflow_steps',
    schema,
    columns: {
      id: id('bigint'),
      taskId: col('bigint', { name: 'task_id' }),
      namedTaskId: col('int', { name: 'named_task_id' }),
      namedStepId: nullable('int', 'named_step_id'),
      name: col('text'),
      position: col('int'),
      state: col('text'),
      attempts: col('int'),
      retryLimit: col('int', { name: 'retry_limit' }),
      retryable: col('boolean'),
      exhausted: col('boolean'),
      timeoutMs: nullable('int', 'timeout_ms'),
      backoff: col('jsonb'),
      parentsTotal: col('int', { name: 'parents_total' }),
      parentsDone: col('int', { name: 'parents_done' }),
      availableAt: at('available_at'),
      leaseOwner: nullable('text', 'lease_owner'),
      leaseToken: nullable('uuid', 'lease_token'),
      leaseExpiresAt: at('lease_expires_at', true),
      results: nullable('jsonb'),
      lastError: nullable('jsonb', 'last_error'),
      startedAt: at('started_at', true),
      completedAt: at('completed_at', true),
      createdAt: at('created_at'),
      updatedAt: at('updated_at'),
    },
  });
  const WorkflowStepEdge = new EntitySchema<{ taskId: string; fromStepId: string; toStepId: string }>({
    name: 'TaskerWorkflowStepEdge',
    tableName: 'workflow_step_edges',
    schema,
    columns: {
      taskId: col('bigint', { name: 'task_id' }),
      fromStepId: col('bigint', { name: 'from_step_id', primary: true }),
      toStepId: col('bigint', { name: 'to_step_id', primary: true }),
    },
  });
  const transitionColumns = {
    id: col('bigint', { primary: true }),
    taskId: col('bigint', { name: 'task_id' }),
    fromState: nullable('text', 'from_state'),
    toState: col('text', { name: 'to_state' }),
    actor: nullable('text'),
    reason: nullable('text'),
    createdAt: at('created_at'),
  };
  const TaskTransition = new EntitySchema<TaskerTransitionRecord>({
    name: 'TaskerTaskTransition',
    tableName: 'task_transitions',
    schema,
    columns: transitionColumns,
  });
  const StepTransition = new EntitySchema<TaskerStepTransitionRecord>({
    name: 'TaskerWorkflowStepTransition',
    tableName: 'workflow_step_transitions',
    schema,
    columns: {
      ...transitionColumns,
      stepId: col('bigint', { name: 'step_id' }),
      stepName: col('text', { name: 'step_name' }),
      attempt: nullable('int'),
      error: nullable('jsonb'),
      nextRetryAt: at('next_retry_at', true),
      durationMs: nullable('int', 'duration_ms'),
      taskTransitionId: nullable('bigint', 'task_transition_id'),
      taskFrom: nullable('text', 'task_from'),
      taskTo: nullable('text', 'task_to'),
    },
  });
  // The whole trail, task and step transitions, whichever table row holds them (read-only).
  const Transition = new EntitySchema<TaskerAuditRecord>({
    name: 'TaskerTransition',
    tableName: 'transitions',
    schema,
    type: 'view',
    columns: {
      kind: col('text'),
      id: col('bigint', { primary: true }),
      taskId: col('bigint', { name: 'task_id' }),
      stepId: nullable('bigint', 'step_id'),
      stepName: nullable('text', 'step_name'),
      fromState: nullable('text', 'from_state'),
      toState: col('text', { name: 'to_state' }),
      attempt: nullable('int'),
      actor: nullable('text'),
      reason: nullable('text'),
      error: nullable('jsonb'),
      nextRetryAt: at('next_retry_at', true),
      durationMs: nullable('int', 'duration_ms'),
      createdAt: at('created_at'),
    },
  });
  return { Namespace, NamedTask, NamedStep, NamedStepEdge, Task, WorkflowStep, WorkflowStepEdge, TaskTransition, StepTransition, Transition };
}
