/** Pure DAG checks and ordering for a handler's steps. No Nest, no database. */
import { DAG_CYCLE, DAG_DUPLICATE_STEP, DAG_EMPTY, DAG_SELF_DEPENDENCY, DAG_UNKNOWN_DEPENDENCY } from '../tasker.messages';
import { closestNames } from '../errors/did-you-mean';

export interface DagNode {
  name: string;
  dependsOn: readonly string[];
}

export type DagProblem =
  | { kind: 'duplicate'; step: string }
  | { kind: 'unknown_dependency'; step: string; dependency: string; suggestions: string[] }
  | { kind: 'self_dependency'; step: string }
  | { kind: 'cycle'; path: string[] }
  | { kind: 'empty' };

/** Returns every problem found, in a stable order; an empty array means the DAG is valid. */
export function findDagProblems(nodes: readonly DagNode[]): DagProblem[] {
  if (nodes.length === 0) return [{ kind: 'empty' }];
  const problems: DagProblem[] = [];
  const names = new Set<string>();
  for (const n of nodes) {
    if (names.has(n.name)) problems.push({ kind: 'duplicate', step: n.name });
    names.add(n.name);
  }
  for (const n of nodes) {
    for (const d of n.dependsOn) {
      if (d === n.name) problems.push({ kind: 'self_dependency', step: n.name });
      else if (!names.has(d)) problems.push({ kind: 'unknown_dependency', step: n.name, dependency: d, suggestions: closestNames(d, [...names].filter((s) => s !== n.name)) });
    }
  }
  if (problems.length > 0) return problems;
  const cycle = findCycle(nodes);
  if (cycle) problems.push({ kind: 'cycle', path: cycle });
  return problems;
}

/** A cycle as a closed path (`a → b → a`), or null. Iterative DFS: deep chains must not overflow the stack. */
export function findCycle(nodes: readonly DagNode[]): string[] | null {
  const deps = new Map(nodes.map((n) => [n.name, n.dependsOn]));
  const color = new Map<string, 0 | 1 | 2>(); // 0 new, 1 on the stack, 2 done
  for (const start of nodes) {
    if (color.get(start.name)) continue;
    const stack: { name: string; next: number }[] = [{ name: start.name, next: 0 }];
    color.set(start.name, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const children = deps.get(top.name) ?? [];
      if (top.next >= children.length) {
        color.set(top.name, 2);
        stack.pop();
        continue;
      }
      const child = children[top.next++];
      const c = color.get(child) ?? 0;
      if (c === 1) {
        const from = stack.findIndex((f) => f.name === child);
        // Stack edges point from a step to its dependency; print the flow order (dependency first).
        return [...stack.slice(from).map((f) => f.name), child].reverse();
      }
      if (c === 0 && deps.has(child)) {
        color.set(child, 1);
        stack.push({ name: child, next: 0 });
      }
    }
  }
  return null;
}

/**
 * Steps in an order where each comes after all its dependencies (Kahn by layers; within a layer
 * declaration order). Counts unmet dependencies instead of rescanning, so 10,000 steps stay linear.
 */
export function topologicalOrder(nodes: readonly DagNode[]): string[] {
  const position = new Map(nodes.map((n, i) => [n.name, i]));
  const unmet = new Map(nodes.map((n) => [n.name, new Set(n.dependsOn).size]));
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    for (const d of new Set(n.dependsOn)) {
      const list = dependents.get(d);
      if (list) list.push(n.name);
      else dependents.set(d, [n.name]);
    }
  }
  const order: string[] = [];
  let layer = [...unmet].filter(([, count]) => count === 0).map(([name]) => name);
  while (layer.length > 0) {
    const next: string[] = [];
    for (const name of layer) {
      order.push(name);
      for (const child of dependents.get(name) ?? []) {
        const left = unmet.get(child)! - 1;
        unmet.set(child, left);
        if (left === 0) next.push(child);
      }
    }
    layer = next.sort((x, y) => position.get(x)! - position.get(y)!);
  }
  if (order.length < unmet.size) throw new Error('topologicalOrder: the graph has a cycle');
  return order;
}

export function describeDagProblem(p: DagProblem): string {
  switch (p.kind) {
    case 'empty':
      return DAG_EMPTY();
    case 'duplicate':
      return DAG_DUPLICATE_STEP(p.step);
    case 'self_dependency':
      return DAG_SELF_DEPENDENCY(p.step);
    case 'unknown_dependency':
      return DAG_UNKNOWN_DEPENDENCY(p.step, p.dependency, p.suggestions);
    case 'cycle':
      return DAG_CYCLE(p.path);
  }
}
