import { TaskerError } from './tasker.error';

/** A handler's definition is invalid (cycle, unknown dependency, duplicate, scope...). The app refuses to start. */
export class HandlerDefinitionError extends TaskerError {
  constructor(message: string) {
    super('INVALID_HANDLER_DEFINITION', message);
  }
}

/** TaskerModule is misconfigured (bad option, missing EventEmitterModule/ScheduleModule...). */
export class TaskerConfigError extends TaskerError {
  constructor(message: string) {
    super('INVALID_CONFIGURATION', message);
  }
}

/**
 * PostgreSQL could not be reached or prepared at boot, or a statement lost its connection (a
 * restart, a network cut) and could not be retried safely. `cause`: the driver's error.
 */
export class DatabaseUnavailableError extends TaskerError {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super('DATABASE_UNAVAILABLE', message);
  }
}

/**
 * A task type version is already recorded in the schema with other steps (another codebase, or
 * changed code under the same version). The app refuses to start: a changed workflow needs a new version.
 */
export class DefinitionConflictError extends TaskerError {
  constructor(message: string) {
    super('DEFINITION_CONFLICT', message);
  }
}
