/** Whether a database error is worth retrying the same statement for (connection loss, deadlock...). */
export function isTransientDatabaseError(e: unknown): boolean {
  const err = ((e as { driverError?: unknown })?.driverError ?? e) as { code?: string; message?: string };
  const code = err?.code ?? '';
  if (/^(08|53|57P)/.test(code)) return true; // connection exceptions, resources, admin shutdown
  if (code === '40001' || code === '40P01') return true; // serialization failure, deadlock
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  const msg = String(err?.message ?? '');
  return /Connection terminated|connection is closed|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(msg);
}

/** Whether Postgres refused the data itself (e.g. a \u0000 in JSON): retrying cannot help. */
export function isDataError(e: unknown): boolean {
  const err = ((e as { driverError?: unknown })?.driverError ?? e) as { code?: string };
  return typeof err?.code === 'string' && err.code.startsWith('22');
}
