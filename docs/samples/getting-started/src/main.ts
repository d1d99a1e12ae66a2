// #region main
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks(); // on SIGTERM, running steps finish before the process exits
  await app.listen(process.env.PORT ?? 3000);
}
void bootstrap();
// #endregion
