import { InvalidTransitionError, StepNotFoundError, TaskNotFoundError } from '../errors/service.errors';
import { TaskerError } from '../errors/tasker.error';

interface PgError {
  code?: string;
  message?: string;
  detail?: string;
  driverError?: PgError;
}

/** Maps the SQLSTATEs raised by Tasker's functions (TK...) to typed errors; anything else passes through. */
export function mapDatabaseError(e: unknown): unknown {
  if (e instanceof TaskerError) return e;
  const err = ((e as PgError)?.driverError ?? e) as PgError;
  const message = err?.message ?? String(e);
  switch (err?.code) {
    case 'TK404': {
      const id = /task (\S+) does not exist/.exec(message)?.[1] ?? '?';
      return new TaskNotFoundError(id);
    }
    case 'TK405': {
      const m = /Task (\S+) has no step named "(.*)"\./.exec(message);
      return new StepNotFoundError(m?.[1] ?? '?', m?.[2] ?? '?');
    }
    case 'TK409':
      return new InvalidTransitionError(message, err.detail);
    default:
      return e;
  }
}
