import { BadRequestException, ForbiddenException, HttpException, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import {
  HandlerNotFoundError,
  InvalidTransitionError,
  StepNotFoundError,
  TaskNotFoundError,
  TaskValidationError,
} from '../../errors/service.errors';
import { TaskerExceptionFilter } from './tasker-exception.filter';

/** A body-parser error as body-parser builds it (http-errors with `type`). */
function bodyParserError(type: string, status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error('raw parser text with "{\\"secret\\": x"'), { type, status, statusCode: status, expose: true, ...extra });
}

describe('TaskerExceptionFilter.toBody', () => {
  const filter = new TaskerExceptionFilter();

  it('maps Tasker errors to 400 (with field details), 404 and 409', () => {
    const fields = [{ field: 'context.orderId', messages: ['must be a string'] }];
    expect(filter.toBody(new TaskValidationError('Invalid context', fields))).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Invalid context',
      details: fields,
    });
    expect(filter.toBody(new TaskNotFoundError('7'))).toEqual({ statusCode: 404, error: 'Not Found', message: 'Task "7" does not exist.' });
    expect(filter.toBody(new StepNotFoundError('7', 'x')).statusCode).toBe(404);
    expect(filter.toBody(new HandlerNotFoundError('ns', 'n')).statusCode).toBe(404);
    expect(filter.toBody(new InvalidTransitionError('Task 7 is complete; only a task in error can be retried.'))).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: 'Task 7 is complete; only a task in error can be retried.',
    });
  });

  it('keeps the status and message of HTTP exceptions, and the details of validation errors', () => {
    expect(filter.toBody(new ForbiddenException('viewer'))).toEqual({ statusCode: 403, error: 'Forbidden', message: 'viewer' });
    expect(filter.toBody(new NotFoundException('Cannot GET /x'))).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /x' });
    const details = [{ field: 'limit', messages: ['limit must be an integer number'] }];
    expect(filter.toBody(new BadRequestException({ message: 'Invalid request: limit ...', details }))).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Invalid request: limit ...',
      details,
    });
    expect(filter.toBody(new BadRequestException(['a is bad', 'b is bad'])).message).toBe('a is bad; b is bad');
    expect(filter.toBody(new HttpException('I am a teapot', 418))).toEqual({ statusCode: 418, error: "I'm a Teapot", message: 'I am a teapot' });
    expect(filter.toBody(new ServiceUnavailableException({ status: 'error' })).statusCode).toBe(503);
  });

  it('answers body-parser errors with its own words, raw or wrapped by Nest, never quoting the body', () => {
    const tooLarge = bodyParserError('entity.too.large', 413, { limit: 1048576 });
    const badJson = bodyParserError('entity.parse.failed', 400);
    const expected413 = { statusCode: 413, error: 'Payload Too Large', message: 'Request body is larger than the 1048576 bytes allowed.' };
    const expected400 = { statusCode: 400, error: 'Bad Request', message: 'Request body is not valid JSON.' };
    expect(filter.toBody(tooLarge)).toEqual(expected413);
    expect(filter.toBody(badJson)).toEqual(expected400);
    expect(filter.toBody(new HttpException(tooLarge.message, 413, { cause: tooLarge }))).toEqual(expected413);
    expect(filter.toBody(new BadRequestException(badJson.message, { cause: badJson }))).toEqual(expected400);
    expect(filter.toBody(bodyParserError('encoding.unsupported', 415))).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'The request body could not be read.',
    });
  });

  it('turns anything else into a 500 that reveals nothing (and logs it)', () => {
    const log = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      expect(filter.toBody(new Error('connection to db at postgres://u:pw@host failed'))).toEqual({
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'Internal server error.',
      });
      expect(filter.toBody('a string')).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error.' });
      expect(log).toHaveBeenCalledTimes(2);
    } finally {
      log.mockRestore();
    }
  });
});
