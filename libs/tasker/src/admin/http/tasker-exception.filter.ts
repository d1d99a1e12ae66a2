import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import {
  HandlerNotFoundError,
  InvalidTransitionError,
  ScheduleNotFoundError,
  StepNotFoundError,
  TaskNotFoundError,
  TaskValidationError,
  TaskWaitTimeoutError,
} from '../../errors/service.errors';
import { DatabaseUnavailableError } from '../../errors/boot.errors';
import { TaskerError } from '../../errors/tasker.error';
import { isDatabaseUnreachable } from '../../orchestration/transient-errors';
import { ADMIN_NOT_READY, BODY_NOT_JSON, DATABASE_UNAVAILABLE_ANSWER, BODY_TOO_LARGE, BODY_UNREADABLE, INTERNAL_SERVER_ERROR, UNEXPECTED_ERROR_LOG } from '../../tasker.messages';
import { setAdminHeaders } from './admin-headers.middleware';
import { ErrorBody, errorBody } from './error-body';
import { errorForLog } from '../../events/log-text';

/** Errors raised while reading the request body (body-parser sets `type` and `status`). */
interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  limit?: number;
}

function isBodyParserError(e: unknown): e is BodyParserError {
  const bp = e as BodyParserError | undefined;
  return !!bp && typeof bp.type === 'string' && typeof (bp.status ?? bp.statusCode) === 'number';
}

/**
 * Every failure of the admin API becomes `{ statusCode, error, message, details? }`: typed Tasker
 * errors map to 400/404/408/409/503, body problems to 400/413, anything unexpected to a 500 that reveals
 * nothing (it is logged here instead, without the request body).
 */
@Catch()
export class TaskerExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('TaskerAdmin');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse();
    const body = this.toBody(exception);
    // Also for errors raised before any admin middleware ran (unknown routes, bad bodies).
    setAdminHeaders(res);
    res.status(body.statusCode).json(body);
  }

  toBody(e: unknown): ErrorBody {
    if (e instanceof TaskValidationError) return errorBody(400, e.message, e.errors);
    if (e instanceof TaskNotFoundError || e instanceof StepNotFoundError || e instanceof HandlerNotFoundError || e instanceof ScheduleNotFoundError) {
      return errorBody(404, e.message);
    }
    if (e instanceof InvalidTransitionError) return errorBody(409, e.message);
    if (e instanceof TaskWaitTimeoutError) return errorBody(408, e.message);
    // An outage is the server's, not the request's: 503, and the caller may try again.
    if (e instanceof DatabaseUnavailableError || isDatabaseUnreachable(e)) return errorBody(503, DATABASE_UNAVAILABLE_ANSWER());
    if (e instanceof TaskerError) return errorBody(400, e.message);
    // Nest 12 wraps body-parser errors in an HttpException whose message is the raw parser text
    // (which quotes the body); answer them as the body-parser errors they are.
    if (e instanceof HttpException && isBodyParserError(e.cause)) return this.toBody(e.cause);
    if (e instanceof HttpException) {
      const status = e.getStatus();
      const response = e.getResponse() as string | { message?: unknown; details?: ErrorBody['details']; status?: unknown; error?: unknown };
      if (typeof response === 'string') return errorBody(status, response);
      if (response.status === 'error' && response.error && typeof response.error === 'object') {
        // A failed terminus health check: name what is down; terminus's own report goes in details.
        const down = Object.entries(response.error as Record<string, { message?: string }>)
          .map(([key, v]) => `${key}: ${v?.message ?? 'down'}`)
          .join('; ');
        return errorBody(status, ADMIN_NOT_READY(down), response as Record<string, unknown>);
      }
      const message = Array.isArray(response.message) ? response.message.join('; ') : String(response.message ?? e.message);
      return errorBody(status, message, response.details);
    }
    if (isBodyParserError(e)) {
      const bp = e;
      const status = (bp.status ?? bp.statusCode)!;
      if (bp.type === 'entity.too.large') return errorBody(413, BODY_TOO_LARGE(bp.limit));
      if (bp.type === 'entity.parse.failed') return errorBody(400, BODY_NOT_JSON());
      return errorBody(status, BODY_UNREADABLE());
    }
    this.logger.error(UNEXPECTED_ERROR_LOG(errorForLog(e)));
    return errorBody(500, INTERNAL_SERVER_ERROR());
  }
}
