import { LoggerService, Provider } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TaskerModule, TaskerModuleOptions, TaskerService } from 'nestjs-tasker';
import { ApiKey, TaskerAdminModule, TaskerAdminOptions } from 'nestjs-tasker/admin';
import { STATUS_CODES, type Server } from 'node:http';
import request from 'supertest';
import { configureAdminApp } from '../../src/configure-app';
import { testOptions } from './tasker-app';
import { waitFor } from './wait';

/** The keys of the admin e2e tests: an operator (acts, and is the recorded actor) and a viewer. */
export const ALICE: ApiKey = { name: 'alice', role: 'operator', secret: 'alice-secret-0123456789' };
export const DASH: ApiKey = { name: 'dash', role: 'viewer', secret: 'dash-secret-0123456789' };
export const KEYS: ApiKey[] = [ALICE, DASH];

export const bearer = (k: ApiKey) => `Bearer ${k.secret}`;

export interface AdminApp {
  app: NestExpressApplication;
  server: Server;
  tasker: TaskerService;
  /** supertest agent on the app's HTTP server. */
  http(): ReturnType<typeof request>;
  /** GET as the given key (the operator by default). */
  get(path: string, key?: ApiKey): request.Test;
  /** POST a JSON body as the given key (the operator by default). */
  post(path: string, body?: unknown, key?: ApiKey): request.Test;
  /** A provider of the app (e.g. a fixture's Behaviour). */
  provider<T>(token: new (...args: never[]) => T): T;
  close(): Promise<void>;
}

/**
 * Boots the admin API over HTTP exactly as the microservice configures it (body limit, global
 * error filter, OpenAPI), on its own Tasker schema, with the given handler providers.
 */
export async function startAdminApp(
  schema: string,
  providers: Provider[],
  opts: { tasker?: Partial<TaskerModuleOptions>; admin?: TaskerAdminOptions; logger?: LoggerService } = {},
): Promise<AdminApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      EventEmitterModule.forRoot(),
      ScheduleModule.forRoot(),
      TaskerModule.forRoot(testOptions(schema, opts.tasker)),
      TaskerAdminModule.forRoot({ apiKeys: KEYS, ...opts.admin }),
    ],
    providers,
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: opts.logger ?? false });
  configureAdminApp(app);
  await app.init();
  const server = app.getHttpServer() as Server;
  return {
    app,
    server,
    tasker: app.get(TaskerService),
    http: () => request(server),
    get: (path, key = ALICE) => request(server).get(path).set('Authorization', bearer(key)),
    post: (path, body, key = ALICE) => {
      const r = request(server).post(path).set('Authorization', bearer(key));
      return body === undefined ? r : r.send(body as object);
    },
    provider: (token) => app.get(token),
    close: () => app.close(),
  };
}

/** Asserts the one error shape of SPEC §6, exactly: `{ statusCode, error, message, details? }` as JSON. */
export function expectError(res: request.Response, statusCode: number, message: string | RegExp, details?: unknown): void {
  const error = STATUS_CODES[statusCode];
  expect({ status: res.status, type: res.headers['content-type'] }).toEqual({ status: statusCode, type: 'application/json; charset=utf-8' });
  expect(res.body).toEqual({ statusCode, error, message: typeof message === 'string' ? message : expect.stringMatching(message), ...(details !== undefined ? { details } : {}) });
}

/** The entry of a 400's `details` for one field. */
export const field = (name: string, ...messages: string[]) => ({ field: name, messages });

/** Polls GET /tasker/tasks/:id (as the viewer) until the task is in `state`; returns that detail. */
export function waitForTaskState(a: AdminApp, id: string, state: string): Promise<Record<string, any>> {
  return waitFor(`task ${id} to be ${state} (over HTTP)`, async () => {
    const r = await a.get(`/tasker/tasks/${id}`, DASH);
    return r.status === 200 && r.body.state === state ? (r.body as Record<string, any>) : undefined;
  });
}

/**
 * A parsed JSON value with every object as its sorted [key, value] pairs: compares what was stored
 * with what was sent whatever the key order (jsonb sorts keys), own `__proto__` keys included.
 */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') return Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]);
  return v;
}
