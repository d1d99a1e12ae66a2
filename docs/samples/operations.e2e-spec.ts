import { INestApplication } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TaskerModule } from 'nestjs-tasker';
import { TaskerAdminModule } from 'nestjs-tasker/admin';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import request from 'supertest';
import { dropSchema, uniqueSchema } from '../../test/support/database';
import { OnboardingModule } from './getting-started/src/onboarding/onboarding.module';
import { setupTaskerAdmin, WorkflowTriage } from './operations';

const ONBOARDING = { name: 'user_onboarding', namespace: 'accounts' };
const ALICE = { name: 'alice', role: 'operator' as const, secret: 'alice-secret-0123456789' };
const DASH = { name: 'dash', role: 'viewer' as const, secret: 'dash-secret-0123456789' };

/** Runs the samples of docs/operations.md. */
describe('docs/operations.md samples: the admin API mounted in an app', () => {
  const schema = uniqueSchema('docs_ops');
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        TaskerModule.forRoot({ databaseUrl: process.env.DATABASE_URL, schema, logging: false }),
        TaskerAdminModule.forRoot({ apiKeys: [ALICE, DASH] }),
        OnboardingModule,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupTaskerAdmin(app);
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await dropSchema(schema);
  });

  const http = () => request(app.getHttpServer());

  it('serves health openly, the API with keys and roles, and records the operator as the actor', async () => {
    await http().get('/tasker/health/ready').expect(200);
    const anonymous = await http().get('/tasker/tasks').expect(401);
    expect(anonymous.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    await http().post('/tasker/tasks').set('authorization', `Bearer ${DASH.secret}`).send({ ...ONBOARDING, context: { email: 'a@b.c' } }).expect(403);

    const created = await http().post('/tasker/tasks').set('authorization', `Bearer ${ALICE.secret}`).send({ ...ONBOARDING, context: { email: 'a@b.c' } }).expect(201);
    const audit = await http().get(`/tasker/tasks/${created.body.id}/audit`).set('authorization', `Bearer ${DASH.secret}`).expect(200);
    expect(audit.body[0]).toMatchObject({ from: null, to: 'pending', actor: 'alice' });
    await http().get('/tasker/docs-json').expect(200);
    const notFound = await http().get('/tasker/nope').set('authorization', `Bearer ${ALICE.secret}`).expect(404);
    expect(notFound.body).toMatchObject({ statusCode: 404 });
  });
});

describe('docs/operations.md samples: triage', () => {
  let kit: TaskerTestingApp;
  beforeAll(async () => {
    kit = await createTaskerTestingApp({ imports: [OnboardingModule], providers: [WorkflowTriage] });
  });
  afterAll(() => kit?.close());

  it('lists failed tasks with the failing step, and an overview of the fleet', async () => {
    kit.failStep(ONBOARDING, 'send_welcome_email', { permanent: true });
    const failed = await kit.run({ ...ONBOARDING, context: { email: 'z@example.com' } });
    const triage = kit.get(WorkflowTriage);

    expect(await triage.failedTasks('accounts')).toEqual([
      {
        id: failed.id,
        type: 'accounts/user_onboarding@1.0.0',
        failed: [{ step: 'send_welcome_email', attempts: '1/5', error: 'Injected failure 1 of step "send_welcome_email"' }],
      },
    ]);
    const overview = await triage.overview();
    expect(overview.stats.tasks.error).toBe(1);
    expect(overview.health).toEqual({ database: 'up', pendingMigrations: [] });
    expect(overview.workers).toHaveLength(1);
    expect(overview.workers[0].taskTypes).toEqual(['accounts/user_onboarding@1.0.0']);
    expect(overview.types).toEqual(['accounts/user_onboarding@1.0.0']);
    expect((await triage.exportHistory(failed.id)).trim().split('\n').length).toBeGreaterThan(4);
  });
});
