import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { TaskerAdminModule } from './tasker-admin.module';

/**
 * The OpenAPI UI's CSP: Swagger UI loads its scripts and styles from files next to the page (its
 * stylesheet sets inline styles too), draws data: images and calls only this origin.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Serves the OpenAPI description of the admin API at `/<path>` (UI) and `/<path>-json`. */
export function setupTaskerSwagger(app: INestApplication, path = 'tasker/docs'): void {
  // Registered before Swagger's own routes, so every page, asset and the JSON gets these headers.
  const secure = (csp: boolean) => (_req: unknown, res: { setHeader(n: string, v: string): void }, next: () => void) => {
    if (csp) res.setHeader('Content-Security-Policy', DOCS_CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  };
  app.use(`/${path}-json`, secure(false));
  app.use(`/${path}`, secure(true));
  const config = new DocumentBuilder()
    .setTitle('Tasker admin API')
    .setDescription('Operate durable DAG workflows: find, diagnose, retry, cancel and resolve tasks; send signals to waiting steps; pause and resume schedules.')
    .setVersion('1')
    // Not JWTs: Nest's bearer default would say bearerFormat "JWT". A key is the secret of a name:role:secret entry.
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'The secret part of a TASKER_API_KEYS entry (name:role:secret), as a Bearer token' })
    .build();
  const document = SwaggerModule.createDocument(app, config, { include: [TaskerAdminModule] });
  SwaggerModule.setup(path, app, document, { jsonDocumentUrl: `${path}-json` });
}
