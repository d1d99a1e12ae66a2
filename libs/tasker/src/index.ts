// The package's only entry point: everything public is exported here, nothing else is.
export { TaskerModule } from './tasker.module';
export { TaskerService } from './tasker.service';
export type { CreateOptions } from './tasker.service';
export { TaskHandler } from './decorators/task-handler.decorator';
export { Step } from './decorators/step.decorator';
export { DependsOn } from './decorators/depends-on.decorator';
export { TaskerEvents } from './events/tasker-events';
export type {
  TaskerEventName,
  TaskerEventPayload,
  TaskEventPayload,
  StepEventPayload,
  StepFailedPayload,
  SignalReceivedPayload,
  TaskerEventBase,
} from './events/tasker-events';
export { TaskerAuditService } from './tasker-audit.service';
export { TaskerError } from './errors/tasker.error';
export {
  TaskValidationError,
  TaskNotFoundError,
  StepNotFoundError,
  HandlerNotFoundError,
  InvalidTransitionError,
  TaskWaitTimeoutError,
  ScheduleNotFoundError,
} from './errors/service.errors';
export type { FieldError } from './errors/service.errors';
export { PermanentError, RetryableError, StepTimeoutError, StepResultError } from './errors/step.errors';
export { HandlerDefinitionError, TaskerConfigError, DatabaseUnavailableError, DefinitionConflictError } from './errors/boot.errors';
export type { TaskerModuleOptions, WorkerOptions, RetentionOptions } from './interfaces/tasker-options.interface';
export type { TaskHandlerOptions, StepOptions, ScheduleOptions, ConcurrencyOptions, RateLimitOptions } from './interfaces/handler-options.interface';
export type { StepContext, WaitInstruction } from './interfaces/step-context.interface';
export type {
  TaskRequest,
  TaskView,
  TaskDetail,
  StepView,
  StepError,
  StepReadiness,
  TaskQuery,
  TaskPage,
  AuditEntry,
  ActorInput,
  TaskState,
  StepState,
  TaskTypeView,
  WorkerView,
  TaskerStats,
  TaskerHealth,
  ScheduleView,
  ScheduleRef,
  FailureQuery,
  FailureGroup,
  BulkTaskFilter,
  BulkResult,
  PurgeOptions,
} from './interfaces/views.interface';
export type { BackoffOptions } from './interfaces/backoff-options.interface';
export { STATES } from './state/states';
export { taskerMigrations } from './persistence/migrations';
export { taskerEntities } from './persistence/entities';
export type { TaskerTaskRecord, TaskerStepRecord, TaskerTransitionRecord, TaskerStepTransitionRecord, TaskerAuditRecord } from './persistence/entities';
export { httpStep } from './http/http-step';
export type { HttpStepInit, HttpStepResponse } from './http/http-step';
