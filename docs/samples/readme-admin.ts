// The README's summary of mounting the admin API (docs/operations.md has the full, tested version).
// #region admin-summary
import { TaskerAdminModule, TaskerExceptionFilter, setupTaskerSwagger } from 'nestjs-tasker/admin';
// imports: [..., TaskerModule.forRoot({ databaseUrl }), TaskerAdminModule.forRoot()]  (keys from TASKER_API_KEYS)
// after NestFactory.create: app.useGlobalFilters(new TaskerExceptionFilter()); setupTaskerSwagger(app);
// #endregion

export const adminApi = { TaskerAdminModule, TaskerExceptionFilter, setupTaskerSwagger };
