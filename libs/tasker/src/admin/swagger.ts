import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { TaskerAdminModule } from './tasker-admin.module';

/** Serves the OpenAPI description of the admin API at `/<path>` (UI) and `/<path>-json`. */
export function setupTaskerSwagger(app: INestApplication, path = 'tasker/docs'): void {
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
