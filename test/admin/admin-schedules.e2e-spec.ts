import request from 'supertest';
import { NS, ReportWorkflow } from '../fixtures/schedules.workflows';
import { AdminApp, DASH, expectError, field, startAdminApp } from '../support/admin-app';
import { dropSchema, uniqueSchema } from '../support/database';

const VIEWER = 'API key "dash" has the viewer role; this action needs an operator key.';
const HOURLY = { namespace: NS, name: 'report', cron: '0 * * * *' };

/** The schedules over HTTP: GET /tasker/schedules for viewers, pause and resume for operators (recorded as who did it), errors, OpenAPI. */
describe('admin API: schedules', () => {
  const schema = uniqueSchema('adm_sch');
  let a: AdminApp;

  beforeAll(async () => {
    a = await startAdminApp(schema, [ReportWorkflow]);
  });
  afterAll(async () => {
    await a?.close();
    await dropSchema(schema);
  });

  it('lists the schedules for a viewer, filtered by namespace and name', async () => {
    const res = await a.get('/tasker/schedules', DASH);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      {
        namespace: NS,
        name: 'report',
        version: '1.0.0',
        cron: '0 * * * *',
        timezone: 'UTC',
        context: {},
        nextRunAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/),
        lastRunAt: null,
        lastTaskId: null,
        paused: false,
        lastChange: null,
        lastError: null,
        declaredAt: expect.any(String),
      },
      expect.objectContaining({ cron: '0 0 1 1 *', timezone: 'Europe/Berlin', context: { period: 'year' } }),
    ]);
    expect((await a.get(`/tasker/schedules?namespace=${NS}&name=report`, DASH)).body).toHaveLength(2);
    expect((await a.get('/tasker/schedules?namespace=elsewhere', DASH)).body).toEqual([]);
    expectError(await a.get('/tasker/schedules?version=1', DASH), 400, 'Invalid request: property version should not exist', [
      field('version', 'property version should not exist'),
    ]);
  });

  it('401 without a key, 403 for a viewer pausing or resuming, and nothing changes', async () => {
    expect((await request(a.server).get('/tasker/schedules')).status).toBe(401);
    expect((await request(a.server).post('/tasker/schedules/pause').send(HOURLY)).status).toBe(401);
    expectError(await a.post('/tasker/schedules/pause', HOURLY, DASH), 403, VIEWER);
    expectError(await a.post('/tasker/schedules/resume', HOURLY, DASH), 403, VIEWER);
    expect((await a.get('/tasker/schedules', DASH)).body.map((s: { paused: boolean }) => s.paused)).toEqual([false, false]);
  });

  it('an operator pauses and resumes; the key name and the reason are recorded', async () => {
    const paused = await a.post('/tasker/schedules/pause', { ...HOURLY, reason: 'month-end freeze' });
    expect(paused.status).toBe(200);
    expect(paused.body).toEqual([
      expect.objectContaining({ cron: '0 * * * *', paused: true, nextRunAt: null, lastChange: { action: 'paused', actor: 'alice', reason: 'month-end freeze', at: expect.any(String) } }),
    ]);
    const listed = (await a.get('/tasker/schedules', DASH)).body;
    expect(listed[0]).toMatchObject({ paused: true, lastChange: { action: 'paused', actor: 'alice', reason: 'month-end freeze' } });
    expect(listed[1]).toMatchObject({ paused: false, lastChange: null });

    const resumed = await a.post('/tasker/schedules/resume', HOURLY);
    expect(resumed.status).toBe(200);
    expect(resumed.body[0]).toMatchObject({ paused: false, nextRunAt: expect.any(String), lastChange: { action: 'resumed', actor: 'alice' } });
    expect(resumed.body[0].lastChange).not.toHaveProperty('reason');
  });

  it('404 for an unknown schedule; 400 for a bad body, one entry per field', async () => {
    expectError(
      await a.post('/tasker/schedules/pause', { ...HOURLY, cron: '*/5 * * * *' }),
      404,
      'No schedule "*/5 * * * *" of task "sched/report" is registered (listSchedules or GET /tasker/schedules lists them).',
    );
    expectError(await a.post('/tasker/schedules/resume', { name: 'report', cron: '0 * * * *' }), 404, /task "default\/report"/);
    const bad = await a.post('/tasker/schedules/pause', { name: 'report', cron: 7, colour: 'red' });
    expectError(bad, 400, /^Invalid request: /, [
      field('colour', 'property colour should not exist'),
      field('cron', 'cron must be shorter than or equal to 100 characters', 'cron must be longer than or equal to 1 characters', 'cron must be a string'),
    ]);
    const missing = await a.post('/tasker/schedules/resume', {});
    expect(missing.status).toBe(400);
    expect(missing.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['cron', 'name']);
  });

  it('are in the OpenAPI document, with bearer auth', async () => {
    const doc = (await request(a.server).get('/tasker/docs-json')).body as { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };
    expect(doc.paths['/tasker/schedules'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/tasker/schedules/pause'].post.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/tasker/schedules/resume'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/ScheduleActionDto');
    expect(Object.keys(doc.components.schemas.ScheduleActionDto.properties).sort()).toEqual(['cron', 'name', 'namespace', 'reason']);
    expect(doc.components.schemas.ScheduleActionDto.required.sort()).toEqual(['cron', 'name']);
  });
});
