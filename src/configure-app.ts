import type { NestExpressApplication } from '@nestjs/platform-express';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { setupTaskerSwagger, TaskerExceptionFilter } from 'nestjs-tasker/admin';

/** Request bodies above this are refused with 413 before any parsing work. */
export const BODY_LIMIT = '1mb';

/**
 * HTTP settings of the admin microservice (shared by main.ts and the e2e tests). The app must be
 * created with `{ bodyParser: false }` so the limit below is the only JSON parser.
 */
export function configureAdminApp(app: NestExpressApplication): void {
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
 * Requests Node's HTTP parser refuses before any route (a URL or headers over 16 KB: 431; a
 * malformed request: 400) get the same JSON error shape as every other error, instead of Node's
 * bare status line with no body.
 */
function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_URI_TOO_LONG' ? 414 : 400;
    const message = status === 400 ? 'Malformed HTTP request.' : 'The request line or headers are too large.';
    const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
