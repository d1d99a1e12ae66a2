// Entry point of `nestjs-tasker/testing`: helpers for your tests, never loaded in production.
export { createTaskerTestingApp, TaskerTestingApp } from './tasker-testing-app';
export type { TaskerTestingOptions, TaskTypeRef } from './tasker-testing-app';
export type { StepFault } from './step-faults';
export { startEmbeddedPostgres } from './embedded-postgres';
export type { EmbeddedPostgres, EmbeddedPostgresOptions } from './embedded-postgres';
export { EmbeddedPostgresStartError, EmbeddedPostgresUnreachableError, EmbeddedPostgresVersionError } from './embedded-postgres.errors';
