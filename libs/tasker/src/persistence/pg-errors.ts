import { DatabaseUnavailableError } from '../errors/boot.errors';
import { InvalidTransitionError, StepNotFoundError, TaskNotFoundError } from '../errors/service.errors';
import { TaskerError } from '../errors/tasker.error';
import { DATABASE_CONNECTION_LOST } from '../tasker.messages';

interface PgError {
  code?: string;
  message?: string;
  detail?: string;
  driverError?: PgError;
}

/**
 * Whether a statement failed because its connection did (the server restarting or shutting down,
 * the network, a connection that went silent): the statement may or may not have taken effect.
 */
export function isConnectionError(e: unknown): boolean {
  const err = ((e as PgError)?.driverError ?? e) as PgError;
  const code = err?.code ?? '';
  if (/^08/.test(code) || ['57P01', '57P02', '57P03'].includes(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  return /Connection terminated|connection is closed|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    String(err?.message ?? ''),
  );
}

/**
 * Maps the SQLSTATEs raised by Tasker's functions (TK...) to typed errors, and a lost connection
 * to DatabaseUnavailableError (the driver's error as its cause); anything else passes through.
 */
export function mapDatabaseError(e: unknown): unknown {
  if (e instanceof TaskerError) return e;
  const err = ((e as PgError)?.driverError ?? e) as PgError;
  const message = err?.message ?? String(e);
  if (isConnectionError(err)) return new DatabaseUnavailableError(DATABASE_CONNECTION_LOST(message), err);
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
