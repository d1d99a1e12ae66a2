// Entry point of `nestjs-tasker/admin`: the admin API as a module any Nest HTTP app can import.
// Kept apart from the main entry so worker-only apps never load terminus, swagger or prom-client.
export { TaskerAdminModule } from './tasker-admin.module';
export { setupTaskerSwagger } from './swagger';
export { authenticateBeforeBody } from './auth/authenticate-before-body';
export { TaskerMetrics } from './metrics/tasker-metrics.service';
export { TaskerExceptionFilter } from './http/tasker-exception.filter';
export { parseApiKeys } from './auth/api-keys';
export type { ApiKey, TaskerAdminOptions } from './admin-options.interface';
export type { ErrorBody } from './http/error-body';
export type { TaskGraph, GraphNode, GraphEdge, InstanceCounts } from './graph/task-graph';
