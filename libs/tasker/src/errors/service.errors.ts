import { HANDLER_NOT_FOUND, SCHEDULE_NOT_FOUND, STEP_NOT_FOUND, TASK_NOT_FOUND, TASK_WAIT_TIMEOUT } from '../tasker.messages';
import { closestTaskTypes } from './did-you-mean';
import { TaskerError } from './tasker.error';

/** One entry per invalid field of a task request or context. */
export interface FieldError {
  field: string;
  messages: string[];
}

/** The request or its context failed validation; `errors` lists each bad field. */
export class TaskValidationError extends TaskerError {
  constructor(
    message: string,
    readonly errors: FieldError[],
  ) {
    super('TASK_VALIDATION', message);
  }
}

/** No task with this id. */
export class TaskNotFoundError extends TaskerError {
  constructor(readonly taskId: string) {
    super('TASK_NOT_FOUND', TASK_NOT_FOUND(taskId));
  }
}

/** No step with this name in the task. */
export class StepNotFoundError extends TaskerError {
  constructor(
    readonly taskId: string,
    readonly stepName: string,
  ) {
    super('STEP_NOT_FOUND', STEP_NOT_FOUND(taskId, stepName));
  }
}

/** Below this many registered task types, the message lists them all. */
const LIST_REGISTERED_UP_TO = 10;

/**
 * No handler is registered (by any process) for this task type. Given the registered types
 * ("namespace/name"), the message names the ones probably meant, and lists them when they are few.
 */
export class HandlerNotFoundError extends TaskerError {
  /** The registered task types the request probably meant (same name elsewhere, near names). */
  readonly suggestions: string[];

  constructor(
    readonly namespace: string,
    readonly taskName: string,
    readonly version?: string,
    registered?: readonly string[],
  ) {
    const types = registered && [...new Set(registered)].sort();
    const suggestions = types ? closestTaskTypes(namespace, taskName, types) : [];
    super('HANDLER_NOT_FOUND', HANDLER_NOT_FOUND(namespace, taskName, version, suggestions, types && types.length <= LIST_REGISTERED_UP_TO ? types : undefined));
    this.suggestions = suggestions;
  }
}

/** No schedule with this cron expression is registered for the task (by any process). */
export class ScheduleNotFoundError extends TaskerError {
  constructor(
    readonly namespace: string,
    readonly taskName: string,
    readonly cron: string,
  ) {
    super('SCHEDULE_NOT_FOUND', SCHEDULE_NOT_FOUND(namespace, taskName, cron));
  }
}

/** The requested state change is not allowed from the current state. */
export class InvalidTransitionError extends TaskerError {
  constructor(
    message: string,
    readonly from?: string,
    readonly to?: string,
  ) {
    super('INVALID_TRANSITION', message);
  }
}

/** waitForTask gave up before the task reached a terminal state. */
export class TaskWaitTimeoutError extends TaskerError {
  constructor(
    readonly taskId: string,
    readonly timeoutMs: number,
    readonly state: string,
  ) {
    super('TASK_WAIT_TIMEOUT', TASK_WAIT_TIMEOUT(taskId, timeoutMs, state));
  }
}
