import { DependsOn, Step, StepContext, TaskDetail, TaskHandler, TaskerEvents } from 'nestjs-tasker';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { expectConsistentAuditTrail, expectTrailEndsWithTask } from '../support/audit-check';

/**
 * Random DAGs with random conditions, run by the engine, against a reference evaluation of the
 * join rule (SPEC §8.1) written here: a step runs iff all its parents finished and (it is a root
 * or at least one parent was not skipped) and its condition is true; otherwise it is skipped.
 *
 * Everything random comes from one seed (DAG_SEED, a fixed default: the run is reproducible); a
 * failure names the seed, the shape and the task's decisions. Besides the final states it checks,
 * per step: the reason of a skip, attempts, how often the condition and the body ran, what the body
 * saw of its parents (no entry for a skipped one), one step.skipped event per skipped step, and the
 * audit trail of every task. Some conditions and bodies fail their first attempt (a thrown
 * condition fails the attempt like a step error; a skip after it keeps the failed attempt).
 */

const SEED = Number(process.env.DAG_SEED ?? 20260512);
const SHAPES = Number(process.env.DAG_SHAPES ?? 16);
const TASKS_PER_SHAPE = Number(process.env.DAG_TASKS ?? 10);
const NAMESPACE = 'rdag';

/** JSON with object keys sorted at every level (jsonb does not keep key order). */
const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1))) : x));

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Shape {
  name: string;
  /** map: a map step, over the task's items for it (its instances run the body, one per item). */
  steps: { name: string; parents: string[]; map: boolean }[];
}

/** Per task: each step's condition, and which of its first attempts fail (the condition or the body). */
type Decisions = {
  cond: Record<string, boolean>;
  condThrows: Record<string, boolean>;
  bodyThrows: Record<string, boolean>;
  /** A map step's items (0 to 3: an empty map completes at once with []). */
  items: Record<string, number[]>;
};

type Expected = { state: 'complete' | 'skipped'; reason?: 'condition false' | 'all parents skipped' };

/** The reference: the join rule evaluated in topological order (steps are generated in one). */
function reference(shape: Shape, d: Decisions): Record<string, Expected> {
  const out: Record<string, Expected> = {};
  for (const s of shape.steps) {
    const allSkipped = s.parents.length > 0 && s.parents.every((p) => out[p].state === 'skipped');
    if (allSkipped) out[s.name] = { state: 'skipped', reason: 'all parents skipped' };
    else if (!d.cond[s.name]) out[s.name] = { state: 'skipped', reason: 'condition false' };
    else out[s.name] = { state: 'complete' };
  }
  return out;
}

function makeShapes(random: () => number): Shape[] {
  const shapes: Shape[] = [];
  for (let i = 0; i < SHAPES; i++) {
    const n = 2 + Math.floor(random() * 9); // 2..10 steps
    const density = 0.2 + random() * 0.5;
    const steps: Shape['steps'] = [];
    for (let j = 0; j < n; j++) {
      const parents = steps.filter(() => random() < density).map((s) => s.name);
      // Joins of several parents are the interesting case: give a later step a second parent now and then.
      if (parents.length === 1 && j > 2 && random() < 0.3) {
        const other = steps[Math.floor(random() * j)].name;
        if (!parents.includes(other)) parents.push(other);
      }
      steps.push({ name: `s${j}`, parents, map: random() < 0.25 });
    }
    shapes.push({ name: `dag_${i}`, steps });
  }
  return shapes;
}

function makeDecisions(shape: Shape, random: () => number): Decisions {
  const pTrue = 0.4 + random() * 0.55; // some tasks skip a lot, some almost nothing
  const d: Decisions = { cond: {}, condThrows: {}, bodyThrows: {}, items: {} };
  for (const s of shape.steps) {
    d.cond[s.name] = random() < pTrue;
    d.condThrows[s.name] = random() < 0.1;
    d.bodyThrows[s.name] = random() < 0.1;
    if (s.map) d.items[s.name] = Array.from({ length: Math.floor(random() * 4) }, () => Math.floor(random() * 100));
  }
  return d;
}

/** What the handlers saw, by `${taskId}/${step}`. */
interface Seen {
  conditions: { attempt: number; results: Record<string, unknown> }[]; // each run of the condition: its attempt, what it saw
  bodies: { attempt: number; results: Record<string, unknown> }[];
}

function handlerFor(shape: Shape, seen: Map<string, Seen>): new () => object {
  const record = (ctx: StepContext<Decisions, unknown>) => {
    const key = `${ctx.task.id}/${ctx.step.name}`;
    let s = seen.get(key);
    if (!s) seen.set(key, (s = { conditions: [], bodies: [] }));
    return s;
  };
  class Handler {}
  Object.defineProperty(Handler, 'name', { value: `RandomDag_${shape.name}` });
  for (const st of shape.steps) {
    // A plain step's body, or a map step's instance (which fails its own first attempt when the body does).
    const method = function (ctx: StepContext<Decisions, number>) {
      record(ctx).bodies.push({ attempt: ctx.step.attempt, results: { ...ctx.results } });
      if (ctx.task.context.bodyThrows[st.name] && ctx.step.attempt === 1) throw new Error(`first attempt of ${ctx.step.name} fails`);
      return st.map ? { step: st.name, task: ctx.task.id, item: ctx.item, index: ctx.index } : { step: st.name, task: ctx.task.id };
    };
    const descriptor: PropertyDescriptor = { value: method, writable: true, configurable: true };
    Object.defineProperty(Handler.prototype, st.name, descriptor);
    const runIf = (ctx: StepContext<Decisions>) => {
      record(ctx).conditions.push({ attempt: ctx.step.attempt, results: { ...ctx.results } });
      if (ctx.task.context.condThrows[st.name] && ctx.step.attempt === 1) throw new Error(`first condition of ${st.name} fails`);
      return ctx.task.context.cond[st.name];
    };
    const map = st.map ? (ctx: StepContext<Decisions>) => ctx.task.context.items[st.name] : undefined;
    Step({ name: st.name, retryLimit: 3, runIf, map })(Handler.prototype, st.name, descriptor);
    if (st.parents.length) DependsOn(...st.parents)(Handler.prototype, st.name, descriptor);
  }
  TaskHandler({ name: shape.name, namespace: NAMESPACE, version: '1' })(Handler);
  return Handler;
}

describe(`random DAGs with random conditions against the join rule (DAG_SEED=${SEED})`, () => {
  const schema = uniqueSchema('rdag');
  const random = rng(SEED);
  const shapes = makeShapes(random);
  const seen = new Map<string, Seen>();
  let a: TestApp;

  beforeAll(async () => {
    a = await startApp(
      schema,
      shapes.map((s) => handlerFor(s, seen)),
      { worker: { concurrency: 8 }, defaults: { backoff: { baseMs: 1, maxMs: 5, jitter: 0 } } },
    );
  });
  afterAll(async () => {
    await a?.close();
    if (!process.env.KEEP_SCHEMA) await dropSchema(schema);
  });

  it('every step ends complete or skipped exactly as the reference says; skipped parents are absent from ctx.results; the trails are valid', async () => {
    const runs: { shape: Shape; d: Decisions; id: string }[] = [];
    const requests = shapes.flatMap((shape) =>
      Array.from({ length: TASKS_PER_SHAPE }, () => {
        const d = makeDecisions(shape, random);
        return { shape, d };
      }),
    );
    const created = await a.tasker.createTasks(requests.map((r) => ({ name: r.shape.name, namespace: NAMESPACE, context: r.d })));
    created.forEach((t, i) => runs.push({ ...requests[i], id: t.id }));

    const problems: string[] = [];
    const finished = new Map<string, TaskDetail>();
    for (const r of runs) finished.set(r.id, await a.tasker.waitForTask(r.id, { timeoutMs: 60_000 }));

    /** What a complete step's results are (a map step's: its instances', in item order). */
    const resultOf = (shape: Shape, d: Decisions, id: string, name: string) =>
      shape.steps.find((x) => x.name === name)!.map
        ? d.items[name].map((item, index) => ({ step: name, task: id, item, index }))
        : { step: name, task: id };

    for (const { shape, d, id } of runs) {
      const where = `seed ${SEED}, ${shape.name} ${JSON.stringify(shape.steps.map((s) => [s.name, s.parents]))}, task ${id}, cond ${JSON.stringify(d.cond)}`;
      const task = finished.get(id)!;
      const expected = reference(shape, d);
      if (task.state !== 'complete') problems.push(`${where}: task is ${task.state}`);
      const steps = Object.fromEntries(task.steps.map((s) => [s.name, s]));
      for (const st of shape.steps) {
        const exp = expected[st.name];
        const got = steps[st.name];
        const s = seen.get(`${id}/${st.name}`) ?? { conditions: [], bodies: [] };
        const say = (what: string) => problems.push(`${where}: ${st.map ? `map step ${st.name} over ${JSON.stringify(d.items[st.name])}` : `step ${st.name}`} (parents ${st.parents.join(',') || '-'}): ${what}`);
        if (got.state !== exp.state) {
          say(`is ${got.state}, the reference says ${exp.state}${exp.reason ? ` (${exp.reason})` : ''}`);
          continue;
        }
        // Attempts used: a condition or body that failed its first attempt used one; a false condition uses none.
        // (A body that fails only on attempt 1 does not fail when a thrown condition already used attempt 1.)
        // A map step's own attempt only decides and expands: its instances' failures are theirs.
        const failedFirst =
          exp.reason !== 'all parents skipped' && (d.condThrows[st.name] || (exp.state === 'complete' && !st.map && d.bodyThrows[st.name]));
        const attempts = exp.state === 'complete' ? (failedFirst ? 2 : 1) : failedFirst ? 1 : 0;
        if (got.attempts !== attempts) say(`attempts ${got.attempts}, expected ${attempts}`);
        if (exp.state === 'skipped') {
          if (got.readiness.reason !== exp.reason) say(`skipped with reason "${got.readiness.reason}", expected "${exp.reason}"`);
          if (got.results !== undefined && got.results !== null) say(`skipped with results ${JSON.stringify(got.results)}`);
          if (s.bodies.length) say(`skipped, but its body ran ${s.bodies.length} time(s)`);
          if (st.map && task.steps.some((x) => x.mapOf === st.name)) say('skipped, but it has instances');
        } else {
          const results = resultOf(shape, d, id, st.name);
          if (canon(got.results) !== canon(results)) say(`results ${JSON.stringify(got.results)}, expected ${JSON.stringify(results)}`);
          // What the condition and a plain step's body saw: exactly the parents that completed, with
          // their results. (An instance's ctx.results is not checked: it has its item.)
          const want = Object.fromEntries(st.parents.filter((p) => expected[p].state === 'complete').map((p) => [p, resultOf(shape, d, id, p)]));
          const sameResults = (b: { results: Record<string, unknown> }) => canon(b.results) === canon(want);
          for (const c of s.conditions) if (!sameResults(c)) say(`its condition (attempt ${c.attempt}) saw ctx.results ${JSON.stringify(c.results)}, expected ${JSON.stringify(want)}`);
          const bodyRuns = d.bodyThrows[st.name] && (st.map || !d.condThrows[st.name]) ? 2 : 1;
          const bodies = st.map ? d.items[st.name].map((_, i) => [`${st.name}[${i}]`, seen.get(`${id}/${st.name}[${i}]`)] as const) : [[st.name, s] as const];
          if (st.map && s.bodies.length) say(`the map step's own attempt ran the body`);
          for (const [name, b] of bodies) {
            const runs = b?.bodies ?? [];
            if (runs.length !== bodyRuns) say(`${name}: body ran ${runs.length} time(s), expected ${bodyRuns}`);
            if (!st.map) for (const r of runs) if (!sameResults(r)) say(`${name}: attempt ${r.attempt} saw ctx.results ${JSON.stringify(r.results)}, expected ${JSON.stringify(want)}`);
            if (st.map) {
              const view = steps[name];
              if (view?.state !== 'complete' || view.attempts !== bodyRuns) say(`${name}: ${view?.state} after ${view?.attempts} attempt(s), expected complete after ${bodyRuns}`);
            }
          }
          if (st.map && task.steps.filter((x) => x.mapOf === st.name).length !== d.items[st.name].length) say('wrong number of instances');
        }
        // The condition runs once per attempt that reached it; never when every parent was skipped.
        const condRuns = exp.reason === 'all parents skipped' ? 0 : failedFirst ? 2 : 1;
        if (s.conditions.length !== condRuns) say(`condition ran ${s.conditions.length} time(s), expected ${condRuns}`);
      }
      // One step.skipped event per skipped step, with its reason.
      const skippedEvents = a.events
        .filter((e) => e.event === TaskerEvents.STEP_SKIPPED && e.taskId === id)
        .map((e) => `${'stepName' in e ? e.stepName : '?'}:${e.reason}`)
        .sort();
      const skippedExpected = shape.steps
        .filter((st) => expected[st.name].state === 'skipped')
        .map((st) => `${st.name}:${expected[st.name].reason}`)
        .sort();
      if (JSON.stringify(skippedEvents) !== JSON.stringify(skippedExpected)) {
        problems.push(`${where}: step.skipped events ${JSON.stringify(skippedEvents)}, expected ${JSON.stringify(skippedExpected)}`);
      }
    }
    expect({ seed: SEED, problems }).toEqual({ seed: SEED, problems: [] });

    for (const { id } of runs) {
      const task = finished.get(id)!;
      const trail = await expectConsistentAuditTrail(a.tasker, task);
      expectTrailEndsWithTask(trail, 'complete');
      // Each skipped step has exactly one transition to skipped, from pending (cascade) or from in_progress (its condition).
      for (const s of task.steps.filter((x) => x.state === 'skipped')) {
        const moves = trail.filter((e) => e.stepName === s.name && e.to === 'skipped');
        expect({ seed: SEED, task: id, step: s.name, moves: moves.map((e) => [e.from, e.reason]) }).toEqual({
          seed: SEED,
          task: id,
          step: s.name,
          moves: [[s.readiness.reason === 'all parents skipped' ? 'pending' : 'in_progress', s.readiness.reason]],
        });
      }
    }
  }, 120_000);
});
