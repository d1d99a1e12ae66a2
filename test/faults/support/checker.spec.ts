import { check, History } from './checker';
import { evaluate, shapeByName } from './workload';

/**
 * The checker must be able to fail: a valid history of one linear task passes, and each kind of
 * corruption a fault could cause is reported. Synthetic histories, no database.
 */
describe('fault-run checker', () => {
  const W1 = 'worker:a:1:x';
  const W2 = 'worker:b:2:y';
  const names = ['step_1', 'step_2', 'step_3', 'step_4'];
  const values = evaluate(shapeByName('linear'), 6);

  /** One linear task (x = 6) run to completion by W1, each step in one attempt, times in ms from 0. */
  function valid(): History {
    let id = 1;
    const at = (ms: number) => new Date(1_000_000 + ms);
    const tr = (step: string | null, from: string | null, to: string, ms: number, attempt: number | null = null, actor: string | null = W1, error: History['transitions'][0]['error'] = null) => ({
      id: String(id++),
      task_id: '1',
      step_name: step,
      from_state: from,
      to_state: to,
      attempt,
      actor,
      error,
      at: at(ms),
    });
    const transitions = [tr(null, null, 'pending', 0, null, 'creator'), tr(null, 'pending', 'in_progress', 1)];
    const executions: History['executions'] = [];
    names.forEach((name, i) => {
      const t0 = 10 + i * 10;
      transitions.push(tr(name, 'pending', 'in_progress', t0, 1));
      executions.push({
        id: String(i + 1),
        task_id: '1',
        step: name,
        attempt: 1,
        worker: W1,
        seen: i === 0 ? {} : { [names[i - 1]]: { v: values[names[i - 1]], attempt: 1, by: W1 } },
        result: { v: values[name], attempt: 1, by: W1 },
        started_at: at(t0 + 1),
        ended_at: at(t0 + 5),
      });
      transitions.push(tr(name, 'in_progress', 'complete', t0 + 6, 1));
    });
    transitions.push(tr(null, 'in_progress', 'complete', 60, null, null));
    return {
      tasks: [{ id: '1', name: 'linear', state: 'complete', context: { x: 6 }, idempotency_key: 'k1' }],
      steps: names.map((name, i) => ({
        id: String(10 + i),
        task_id: '1',
        name,
        state: 'complete',
        attempts: 1,
        results: { v: values[name], attempt: 1, by: W1 },
        lease_owner: null,
      })),
      edges: names.slice(1).map((child, i) => ({ task_id: '1', parent: names[i], child })),
      transitions,
      executions,
    };
  }
  const stepTransitions = (h: History, step: string) => h.transitions.filter((t) => t.step_name === step);
  /** Ids in array order (the sequence), after transitions were inserted. */
  const renumber = (h: History) => h.transitions.forEach((t, i) => (t.id = String(i + 1)));

  it('passes a valid history', () => {
    expect(check(valid())).toMatchObject({ tasks: 1, completed: 1, lost: 0, duplicated: 0, reexecutions: 0, violations: [] });
  });

  it('reports a task that did not finish as lost', () => {
    const h = valid();
    h.tasks[0].state = 'in_progress';
    const v = check(h);
    expect(v.lost).toBe(1);
    expect(v.violations).toContain('task 1 (linear) is in_progress (not terminal)');
  });

  it('reports a step completed twice', () => {
    const h = valid();
    const done = stepTransitions(h, 'step_2').find((t) => t.to_state === 'complete')!;
    h.transitions.splice(h.transitions.indexOf(done) + 1, 0, { ...done, from_state: 'complete', to_state: 'complete' });
    renumber(h);
    const v = check(h);
    expect(v.duplicated).toBe(1);
    expect(v.violations.join('\n')).toMatch(/step step_2 completed 2 times/);
  });

  it('reports a stored result that is not the completing attempt’s (a late finisher that was not fenced)', () => {
    const h = valid();
    h.steps[2].results = { v: values.step_3, attempt: 1, by: W2 };
    const v = check(h);
    expect(v.duplicated).toBe(1);
    expect(v.violations.join('\n')).toMatch(/step step_3: stored result is from attempt 1 by worker:b/);
  });

  it('reports one claim executed twice', () => {
    const h = valid();
    h.executions.push({ ...h.executions[1], id: '99' });
    const v = check(h);
    expect(v.duplicated).toBe(1);
    expect(v.violations.join('\n')).toMatch(/step step_2: attempt 1 of worker:a:1:x was executed 2 times/);
  });

  it('reports an execution that started before its parent completed', () => {
    const h = valid();
    // step_3 claimed (and started) at 20 ms, but step_2 completed only at 26 ms.
    stepTransitions(h, 'step_3')[0].at = new Date(1_000_020);
    h.executions[2].started_at = new Date(1_000_021);
    expect(check(h).violations.join('\n')).toMatch(/step step_3: execution 3 started before its parent step_2 completed/);
  });

  it('reports an execution that ran while an earlier attempt still held the lease', () => {
    const h = valid();
    // step_4 ran twice: attempt 1 by W1 (failed), attempt 2 by W2 — but W2 started before attempt 1's lease ended.
    const t = stepTransitions(h, 'step_4');
    const [claim, done] = t;
    const failAt = new Date(done.at.getTime() + 10);
    const fail = { ...done, to_state: 'error', at: failAt, error: { name: 'Error' } };
    const reclaim = { ...claim, from_state: 'error', attempt: 2, actor: W2, at: new Date(failAt.getTime() + 1) };
    const done2 = { ...done, attempt: 2, actor: W2, at: new Date(failAt.getTime() + 20) };
    const taskDone = h.transitions.pop()!;
    h.transitions.splice(h.transitions.indexOf(done), 1, fail, reclaim, done2);
    h.transitions.push({ ...taskDone, at: new Date(failAt.getTime() + 30) });
    renumber(h);
    h.executions.push({ ...h.executions[3], id: '5', attempt: 2, worker: W2, started_at: new Date(failAt.getTime() - 5), ended_at: new Date(failAt.getTime() + 15), result: { v: values.step_4, attempt: 2, by: W2 } });
    h.steps[3].results = { v: values.step_4, attempt: 2, by: W2 };
    h.steps[3].attempts = 2;
    const v = check(h);
    expect(v.violations.join('\n')).toMatch(/execution 5 \(attempt 2\) started while attempt 1 still held the lease/);
  });

  it('reports a retry that followed no failure', () => {
    const h = valid();
    stepTransitions(h, 'step_1')[0].attempt = 2;
    h.executions[0].attempt = 2;
    expect(check(h).violations.join('\n')).toMatch(/step step_1: attempt 2 claimed without a failure or lapsed lease/);
  });

  it('reports what a dependent saw when it differs from the stored result, and a wrong value', () => {
    const h = valid();
    h.executions[3].seen = { step_3: { v: 1, attempt: 1, by: W1 } };
    h.steps[0].results = { v: 35, attempt: 1, by: W1 };
    h.executions[0].result = { v: 35, attempt: 1, by: W1 };
    const text = check(h).violations.join('\n');
    expect(text).toMatch(/step step_4: execution 4 saw .* of step_3, stored/);
    expect(text).toMatch(/step step_1: stored value 35, expected 36/);
  });

  it('reports a broken audit trail: a missing creation, an illegal move, a trail that ends elsewhere', () => {
    const h = valid();
    h.transitions.shift();
    expect(check(h).violations.join('\n')).toMatch(/does not open with the creation/);
    const h2 = valid();
    stepTransitions(h2, 'step_2')[1].to_state = 'pending';
    expect(check(h2).violations.join('\n')).toMatch(/step step_2: the trail ends in pending, the step is complete/);
  });

  it('reports two tasks created for one idempotency key', () => {
    const h = valid();
    h.tasks.push({ ...h.tasks[0], id: '2', state: 'complete' });
    expect(check(h).violations).toContain('idempotency key linear/k1 created 2 tasks');
  });
});
