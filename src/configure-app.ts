import type { NestExpressApplication } from '@nestjs/platform-express';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { authenticateBeforeBody, setupTaskerSwagger, TaskerExceptionFilter } from 'nestjs-tasker/admin';

/** Request bodies above this are refused with 413 before any parsing work. */
export const BODY_LIMIT = '1mb';

/**
 * HTTP settings of the admin microservice (shared by main.ts and the e2e tests). The app must be
 * created with `{ bodyParser: false }` so the limit below is the only JSON parser.
 */
export function configureAdminApp(app: NestExpressApplication): void {
  // Before the parser: a request without a valid key is refused before its body is read.
  authenticateBeforeBody(app);
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.disable('x-powered-by');
  // Global as well as on the admin controllers: body-parser errors (413, bad JSON) and unknown
  // routes happen before any controller, and must have the same error shape.
  app.useGlobalFilters(new TaskerExceptionFilter());
  setupTaskerSwagger(app);
  // This service is the admin API: its bare host opens the dashboard (the library cannot claim "/" in an app it joins).
  const http = app.getHttpAdapter();
  http.get('/', (_req: unknown, res: unknown) => http.redirect(res, 302, '/tasker/dashboard'));
  answerClientErrorsAsJson(app.getHttpServer() as Server);
}

/**
 * Requests Node's HTTP parser refuses before any route get the same JSON error shape as every other
 * error instead of Node's bare status line, under the rules of Node's own handler: answer only when
 * no response of this connection has started (else the answer would be a second, unrequested one),
 * 431 for headers over 16 KB, 408 for a request that took too long, 400 for anything else; then
 * close the connection.
 */
function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: { headersSent?: boolean } | null }) => {
    const inFlight = socket._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      const status = clientErrorStatus(err.code);
      const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message: CLIENT_ERROR_MESSAGES[status] });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  });
}

const CLIENT_ERROR_MESSAGES: Record<number, string> = {
  400: 'Malformed HTTP request.',
  408: 'The request was not received in time.',
  413: 'A chunk extension of the request is too large.',
  431: 'The request headers are too large.',
};

/** The status Node's default clientError handler answers for a parser or timeout error. */
export function clientErrorStatus(code: string | undefined): 400 | 408 | 413 | 431 {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}
