import type { NestExpressApplication } from '@nestjs/platform-express';
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
}
