import { DatabaseUnavailableError } from '../errors/boot.errors';
import { isConnectionError } from '../persistence/pg-errors';

/** The driver's error under Tasker's DatabaseUnavailableError, or the error itself. */
function driverError(e: unknown): { code?: string; message?: string } {
  const inner = e instanceof DatabaseUnavailableError && e.cause !== undefined ? e.cause : e;
  return ((inner as { driverError?: unknown })?.driverError ?? inner) as { code?: string; message?: string };
}

/** Whether a database error is worth retrying the same statement for (connection loss, deadlock...). */
export function isTransientDatabaseError(e: unknown): boolean {
  const err = driverError(e);
  if (isConnectionError(err)) return true;
  const code = err?.code ?? '';
  if (/^(53|57P)/.test(code)) return true; // resources, admin shutdown
  return code === '40001' || code === '40P01'; // serialization failure, deadlock
}

/**
 * Whether the database cannot be reached at all (connection refused or lost, server shutting down or
 * not accepting connections, pool wait timed out), as opposed to a statement it refused.
 */
export function isDatabaseUnreachable(e: unknown): boolean {
  if (e instanceof DatabaseUnavailableError || (e as { name?: unknown })?.name === 'DatabaseUnavailableError') return true;
  const err = driverError(e);
  return isConnectionError(err) || err?.code === '53300' || ['EHOSTUNREACH', 'ENETUNREACH'].includes(err?.code ?? '');
}

/** Whether Postgres refused the data itself (e.g. a \u0000 in JSON): retrying cannot help. */
export function isDataError(e: unknown): boolean {
  const err = ((e as { driverError?: unknown })?.driverError ?? e) as { code?: string };
  return typeof err?.code === 'string' && err.code.startsWith('22');
}
