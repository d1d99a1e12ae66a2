import { STATUS_CODES } from 'node:http';
import type { FieldError } from '../../errors/service.errors';

/** The one error shape of the admin API: every failure of every route answers with it. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: FieldError[] | Record<string, unknown>;
}

export function errorBody(statusCode: number, message: string, details?: ErrorBody['details']): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...(details ? { details } : {}) };
}
