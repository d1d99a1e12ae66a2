import { describeDagProblem, findCycle, findDagProblems, topologicalOrder, DagNode } from './dag';

const node = (name: string, ...dependsOn: string[]): DagNode => ({ name, dependsOn });

describe('findDagProblems', () => {
  it('accepts a valid diamond', () => {
    expect(findDagProblems([node('a'), node('b', 'a'), node('c', 'a'), node('d', 'b', 'c')])).toEqual([]);
  });

  it('reports an empty handler', () => {
    expect(findDagProblems([])).toEqual([{ kind: 'empty' }]);
    expect(describeDagProblem({ kind: 'empty' })).toBe('it has no @Step methods');
  });

  it('reports each duplicate step name', () => {
    const problems = findDagProblems([node('a'), node('b'), node('a'), node('b'), node('c')]);
    expect(problems).toEqual([
      { kind: 'duplicate', step: 'a' },
      { kind: 'duplicate', step: 'b' },
    ]);
    expect(describeDagProblem(problems[0])).toBe('step "a" is declared more than once');
  });

  it('reports an unknown dependency with the step and the missing name', () => {
    const problems = findDagProblems([node('a'), node('b', 'a', 'nope')]);
    expect(problems).toEqual([{ kind: 'unknown_dependency', step: 'b', dependency: 'nope', suggestions: [] }]);
    expect(describeDagProblem(problems[0])).toBe('step "b" depends on "nope", which is not a step of this handler');
  });

  it('suggests the step a misspelt dependency probably meant', () => {
    const problems = findDagProblems([node('validate_payment'), node('update_inventory', 'validat_payment'), node('send_confirmation', 'update_inventory')]);
    expect(problems).toEqual([{ kind: 'unknown_dependency', step: 'update_inventory', dependency: 'validat_payment', suggestions: ['validate_payment'] }]);
    expect(describeDagProblem(problems[0])).toBe(
      'step "update_inventory" depends on "validat_payment", which is not a step of this handler (did you mean "validate_payment"?)',
    );
  });

  it('reports a self dependency (and not also as a cycle)', () => {
    const problems = findDagProblems([node('a'), node('b', 'b')]);
    expect(problems).toEqual([{ kind: 'self_dependency', step: 'b' }]);
    expect(describeDagProblem(problems[0])).toBe('step "b" depends on itself');
  });

  it('lists all structural problems together, in a stable order', () => {
    const problems = findDagProblems([node('a', 'a'), node('a', 'x'), node('b', 'y')]);
    expect(problems).toEqual([
      { kind: 'duplicate', step: 'a' },
      { kind: 'self_dependency', step: 'a' },
      { kind: 'unknown_dependency', step: 'a', dependency: 'x', suggestions: [] },
      { kind: 'unknown_dependency', step: 'b', dependency: 'y', suggestions: [] },
    ]);
  });

  it('names a three-step cycle in flow order, closed on its first step', () => {
    // b runs after a, c after b, a after c.
    const problems = findDagProblems([node('a', 'c'), node('b', 'a'), node('c', 'b')]);
    expect(problems).toEqual([{ kind: 'cycle', path: ['a', 'b', 'c', 'a'] }]);
    expect(describeDagProblem(problems[0])).toBe('its steps form a cycle: a → b → c → a');
  });

  it('names only the steps of the cycle, not the ones leading to it', () => {
    // root → x → y → z → x, plus an unrelated step
    const nodes = [node('root'), node('x', 'root', 'z'), node('y', 'x'), node('z', 'y'), node('other', 'root')];
    const [problem] = findDagProblems(nodes);
    expect(problem).toEqual({ kind: 'cycle', path: ['x', 'y', 'z', 'x'] });
  });

  it('names a two-step cycle', () => {
    expect(findDagProblems([node('a', 'b'), node('b', 'a')])).toEqual([{ kind: 'cycle', path: ['a', 'b', 'a'] }]);
  });

  it('returns no cycle for a DAG where two paths meet', () => {
    expect(findCycle([node('a'), node('b', 'a'), node('c', 'a', 'b'), node('d', 'c', 'a')])).toBeNull();
  });
});

describe('topologicalOrder', () => {
  it('puts every step after all of its dependencies', () => {
    const nodes = [node('d', 'b', 'c'), node('c', 'a'), node('b', 'a'), node('a'), node('e', 'd', 'a')];
    const order = topologicalOrder(nodes);
    expect(order).toEqual(['a', 'c', 'b', 'd', 'e']);
    for (const n of nodes) for (const dep of n.dependsOn) expect(order.indexOf(dep)).toBeLessThan(order.indexOf(n.name));
  });

  it('keeps declaration order among independent steps', () => {
    expect(topologicalOrder([node('z'), node('m'), node('a')])).toEqual(['z', 'm', 'a']);
  });

  it('throws on a cycle instead of looping', () => {
    expect(() => topologicalOrder([node('a', 'b'), node('b', 'a')])).toThrow('topologicalOrder: the graph has a cycle');
  });
});

describe('a 10,000-step chain', () => {
  const n = 10_000;
  // Declared last step first, so an order that just kept declaration order would be wrong.
  const chain = Array.from({ length: n }, (_, i) => node(`s${n - 1 - i}`, ...(n - 1 - i > 0 ? [`s${n - 2 - i}`] : [])));

  it('is valid and checked without overflowing the stack', () => {
    expect(findDagProblems(chain)).toEqual([]);
  });

  it('is ordered dependency first', () => {
    const order = topologicalOrder(chain);
    expect(order).toHaveLength(n);
    expect(order[0]).toBe('s0');
    expect(order[n - 1]).toBe(`s${n - 1}`);
    expect(order.every((name, i) => name === `s${i}`)).toBe(true);
  });

  it('closed into a ring, reports the whole cycle without overflowing the stack', () => {
    const ring = chain.map((x) => (x.name === 's0' ? node('s0', `s${n - 1}`) : x));
    const [problem] = findDagProblems(ring);
    expect(problem.kind).toBe('cycle');
    const path = (problem as { path: string[] }).path;
    expect(path).toHaveLength(n + 1);
    expect(path[0]).toBe(path[n]);
    // consecutive names follow the flow: each step is followed by the step that depends on it
    const i = path.indexOf('s0');
    expect(path[i + 1]).toBe('s1');
  });
});
