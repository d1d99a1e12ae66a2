// Internals: deletes and puts back the functions migration's row (TaskerFunctions_<hash>_<ts>) in the migrations table, so that readiness sees a pending migration.
import { PermanentError } from 'nestjs-tasker';
import request from 'supertest';
import { Behaviour, failFirst, VariationsWorkflow } from '../fixtures/variations.workflow';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { AdminApp, DASH, startAdminApp, waitForTaskState } from '../support/admin-app';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { waitFor } from '../support/wait';

const PROMETHEUS = 'text/plain; version=0.0.4; charset=utf-8';

/** Prometheus text → value by series (`name{labels}` exactly as exposed). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Health (terminus), metrics (prom-client) and OpenAPI over HTTP: content types, and numbers that follow the tasks. */
describe('admin API: health, metrics and docs', () => {
  const schema = uniqueSchema('adm_obs');
  let a: AdminApp;
  let behaviour: Behaviour;

  beforeAll(async () => {
    a = await startAdminApp(schema, [Behaviour, VariationsWorkflow, LinearWorkflow]);
    behaviour = a.provider(Behaviour);
  });
  afterAll(async () => {
    await a?.close();
    await dropSchema(schema);
  });

  const scrape = async (): Promise<Map<string, number>> => {
    const res = await a.get('/tasker/metrics', DASH);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(PROMETHEUS);
    return parseMetrics(res.text);
  };
  /** How much each series grew between two scrapes (absent = 0). */
  const delta = (before: Map<string, number>, after: Map<string, number>, series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);

  it('liveness and readiness answer without a key, as JSON', async () => {
    const live = await request(a.server).get('/tasker/health/live');
    expect([live.status, live.headers['content-type']]).toEqual([200, 'application/json; charset=utf-8']);
    expect(live.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    const ready = await request(a.server).get('/tasker/health/ready');
    expect([ready.status, ready.headers['content-type']]).toEqual([200, 'application/json; charset=utf-8']);
    expect(ready.body).toEqual({ status: 'ok', info: { database: { status: 'up' } }, error: {}, details: { database: { status: 'up' } } });
  });

  it('readiness is 503 while a migration is pending, and ready again once it is applied; liveness stays up', async () => {
    const [row] = await withClient(async (c) => (await c.query(`DELETE FROM "${schema}".migrations WHERE name LIKE 'TaskerFunctions%' RETURNING timestamp, name`)).rows);
    try {
      expect(row.name).toMatch(/^TaskerFunctions_[0-9a-f]{12}_\d{13}$/);
      const ready = await request(a.server).get('/tasker/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Not ready: database: migrations pending',
        // terminus's own report
        details: {
          status: 'error',
          info: {},
          error: { database: { status: 'down', message: 'migrations pending', pendingMigrations: [row.name] } },
          details: { database: { status: 'down', message: 'migrations pending', pendingMigrations: [row.name] } },
        },
      });
      expect((await request(a.server).get('/tasker/health/live')).status).toBe(200);
    } finally {
      await withClient((c) => c.query(`INSERT INTO "${schema}".migrations (timestamp, name) VALUES ($1, $2)`, [row.timestamp, row.name]));
    }
    expect((await request(a.server).get('/tasker/health/ready')).status).toBe(200);
  });

  it('metrics: Prometheus text with tasks and steps by state, workers alive and the process defaults', async () => {
    const m = await scrape();
    for (const state of ['pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually']) {
      expect(m.has(`tasker_tasks{state="${state}"}`)).toBe(true);
      expect(m.has(`tasker_steps{state="${state}"}`)).toBe(true);
    }
    expect(m.get('tasker_workers_alive')).toBe(1);
    // Steps held back by flow control, by reason (none here).
    expect(m.get('tasker_steps_held{reason="concurrency_limit"}')).toBe(0);
    expect(m.get('tasker_steps_held{reason="rate_limited"}')).toBe(0);
    expect(m.has('process_cpu_user_seconds_total')).toBe(true);
    const text = (await a.get('/tasker/metrics', DASH)).text;
    for (const help of ['tasker_tasks gauge', 'tasker_step_duration_seconds histogram', 'tasker_claim_latency_seconds histogram', 'tasker_step_attempts_total counter']) {
      expect(text).toContain(`# TYPE ${help}`);
    }
  });

  it('metrics follow a task that completes: counts by state, attempts, outcomes, durations, claims', async () => {
    const before = await scrape();
    const id = (await a.post('/tasker/tasks', { name: 'linear', namespace: 'scenarios', context: { x: 6 } })).body.id;
    await waitForTaskState(a, id, 'complete');
    const after = await scrape();
    const linear = 'namespace="scenarios",task="linear"';
    expect(delta(before, after, 'tasker_tasks{state="complete"}')).toBe(1);
    expect(delta(before, after, 'tasker_steps{state="complete"}')).toBe(4);
    expect(delta(before, after, `tasker_step_attempts_total{${linear}}`)).toBe(4);
    expect(delta(before, after, `tasker_step_outcomes_total{${linear},outcome="completed"}`)).toBe(4);
    expect(delta(before, after, `tasker_step_duration_seconds_count{${linear},outcome="completed"}`)).toBe(4);
    expect(delta(before, after, `tasker_step_duration_seconds_bucket{le="+Inf",${linear},outcome="completed"}`)).toBe(4);
    expect(delta(before, after, `tasker_tasks_finished_total{${linear},state="complete"}`)).toBe(1);
    expect(delta(before, after, 'tasker_steps_claimed_total')).toBe(4);
    expect(delta(before, after, 'tasker_claim_latency_seconds_count')).toBeGreaterThan(0);
    expect(after.get('tasker_tasks{state="pending"}')).toBe(0);
    expect(after.get('tasker_tasks{state="in_progress"}')).toBe(0);
  });

  it('metrics count the claim queries that found nothing: an idle worker polls an empty queue', async () => {
    const before = await scrape();
    const idle = await waitFor('an empty claim counted', async () => {
      const m = await scrape();
      return delta(before, m, 'tasker_claims_empty_total') > 0 ? m : undefined;
    });
    // Nothing was claimed by them.
    expect(delta(before, idle, 'tasker_steps_claimed_total')).toBe(0);
    expect((await a.get('/tasker/metrics', DASH)).text).toContain('# TYPE tasker_claims_empty_total counter');
  });

  it('metrics count retries, failures and failed tasks', async () => {
    behaviour.plan('flaky', 'work', failFirst(2));
    behaviour.plan('dead', 'work', () => {
      throw new PermanentError('no');
    });
    const before = await scrape();
    const flaky = (await a.post('/tasker/tasks', { name: 'variations', namespace: 'variations', context: { x: 6, key: 'flaky' } })).body.id;
    const dead = (await a.post('/tasker/tasks', { name: 'variations', namespace: 'variations', context: { x: 6, key: 'dead' } })).body.id;
    await waitForTaskState(a, flaky, 'complete');
    await waitForTaskState(a, dead, 'error');
    const after = await scrape();
    const v = 'namespace="variations",task="variations"';
    expect(delta(before, after, `tasker_step_outcomes_total{${v},outcome="retry"}`)).toBe(2);
    expect(delta(before, after, `tasker_step_outcomes_total{${v},outcome="failed"}`)).toBe(1);
    // flaky: 5 steps + 2 retries; dead: start, work, side, side_end.
    expect(delta(before, after, `tasker_step_attempts_total{${v}}`)).toBe(11);
    expect(delta(before, after, `tasker_step_duration_seconds_count{${v},outcome="retry"}`)).toBe(2);
    expect(delta(before, after, `tasker_tasks_finished_total{${v},state="error"}`)).toBe(1);
    expect(delta(before, after, `tasker_tasks_finished_total{${v},state="complete"}`)).toBe(1);
    expect(delta(before, after, 'tasker_tasks{state="error"}')).toBe(1);
    expect(delta(before, after, 'tasker_steps{state="error"}')).toBe(1);
    expect(delta(before, after, 'tasker_steps{state="pending"}')).toBe(1);
  });

  it('OpenAPI: every route of SPEC §6 at /tasker/docs-json with bearer auth, and the UI at /tasker/docs', async () => {
    const res = await request(a.server).get('/tasker/docs-json');
    expect([res.status, res.headers['content-type']]).toEqual([200, 'application/json; charset=utf-8']);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, { security?: unknown }>>; components: Record<string, any> };
    expect(doc.openapi).toMatch(/^3\./);
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops).toEqual(
      expect.arrayContaining([
        'POST /tasker/tasks',
        'GET /tasker/tasks',
        'GET /tasker/tasks/{id}',
        'GET /tasker/tasks/{id}/audit',
        'GET /tasker/tasks/{id}/graph',
        'POST /tasker/tasks/{id}/retry',
        'POST /tasker/tasks/{id}/cancel',
        'POST /tasker/tasks/{id}/steps/{stepName}/resolve',
        'POST /tasker/tasks/{id}/signals/{name}',
        'GET /tasker/handlers',
        'GET /tasker/health/live',
        'GET /tasker/health/ready',
        'GET /tasker/metrics',
      ]),
    );
    expect(ops.some((o) => o.includes('dashboard'))).toBe(false);
    expect(doc.paths['/tasker/tasks'].post.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/tasker/health/live'].get.security).toBeUndefined();
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.CreateTaskDto.required).toEqual(['name']);
    const query = (doc.paths['/tasker/tasks'].get as unknown as { parameters: { name: string }[] }).parameters.map((p) => p.name);
    expect([...query].sort()).toEqual(['cursor', 'limit', 'name', 'namespace', 'state', 'tag']);
    const graph = (doc.paths['/tasker/tasks/{id}/graph'].get as unknown as { parameters: { name: string; in: string }[] }).parameters;
    expect(graph.map((p) => `${p.in} ${p.name}`).sort()).toEqual(['path id', 'query expand']);
    const signal = doc.paths['/tasker/tasks/{id}/signals/{name}'].post as unknown as { security: unknown; requestBody: { content: Record<string, { schema: { $ref: string } }> } };
    expect(signal.security).toEqual([{ bearer: [] }]);
    expect(signal.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/SignalDto');
    expect(Object.keys(doc.components.schemas.SignalDto.properties).sort()).toEqual(['payload', 'reason']);

    const ui = await request(a.server).get('/tasker/docs');
    expect([ui.status, ui.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    expect(ui.text).toContain('swagger-ui');
  });
});
