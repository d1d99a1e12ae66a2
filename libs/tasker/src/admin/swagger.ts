import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { TaskerAdminModule } from './tasker-admin.module';

/** Serves the OpenAPI description of the admin API at `/<path>` (UI) and `/<path>-json`. */
export function setupTaskerSwagger(app: INestApplication, path = 'tasker/docs'): void {
  const config = new DocumentBuilder()
    .setTitle('Tasker admin API')
    .setDescription('Operate durable DAG workflows: find, diagnose, retry, cancel and resolve tasks; send signals to waiting steps; pause and resume schedules.')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key from TASKER_API_KEYS' })
    .build();
  const document = SwaggerModule.createDocument(app, config, { include: [TaskerAdminModule] });
  SwaggerModule.setup(path, app, document, { jsonDocumentUrl: `${path}-json` });
}
