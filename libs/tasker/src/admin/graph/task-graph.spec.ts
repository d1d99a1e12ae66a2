import { buildGraph, GraphStep, MAX_EXPANDED_INSTANCES } from './task-graph';

const STYLE = {
  pending: 'fill:#f4f4f5,stroke:#71717a,color:#18181b',
  complete: 'fill:#dcfce7,stroke:#16a34a,color:#14532d',
  error: 'fill:#fee2e2,stroke:#dc2626,color:#7f1d1d',
  resolved_manually: 'fill:#fef9c3,stroke:#ca8a04,color:#713f12',
  skipped: 'fill:#fafafa,stroke:#a1a1aa,color:#71717a,stroke-dasharray: 2 3',
  waiting: 'fill:#ede9fe,stroke:#7c3aed,color:#4c1d95',
};

describe('buildGraph', () => {
  it('gives nodes with states, edges from dependency to dependent, and a Mermaid flowchart coloured by state', () => {
    const g = buildGraph([
      { name: 'start', dependsOn: [], state: 'complete', attempts: 1, retryLimit: 3 },
      { name: 'work', dependsOn: ['start'], state: 'error', attempts: 4, retryLimit: 4 },
      { name: 'side', dependsOn: ['start'], state: 'complete', attempts: 1, retryLimit: 3 },
      { name: 'end', dependsOn: ['work', 'side'], state: 'pending', attempts: 0, retryLimit: 3 },
    ]);
    expect(g.nodes).toEqual([
      { id: 'start', state: 'complete', attempts: 1, retryLimit: 3 },
      { id: 'work', state: 'error', attempts: 4, retryLimit: 4 },
      { id: 'side', state: 'complete', attempts: 1, retryLimit: 3 },
      { id: 'end', state: 'pending', attempts: 0, retryLimit: 3 },
    ]);
    expect(g.edges).toEqual([
      { from: 'start', to: 'work' },
      { from: 'start', to: 'side' },
      { from: 'work', to: 'end' },
      { from: 'side', to: 'end' },
    ]);
    expect(g.mermaid).toBe(
      [
        'flowchart TD',
        '  s0["start<br/>complete"]:::complete',
        '  s1["work<br/>error"]:::error',
        '  s2["side<br/>complete"]:::complete',
        '  s3["end<br/>pending"]:::pending',
        '  s0 --> s1',
        '  s0 --> s2',
        '  s1 --> s3',
        '  s2 --> s3',
        `  classDef complete ${STYLE.complete}`,
        `  classDef error ${STYLE.error}`,
        `  classDef pending ${STYLE.pending}`,
      ].join('\n'),
    );
  });

  it('without states (a task type) draws plain nodes and no classDef', () => {
    const g = buildGraph([
      { name: 'a', dependsOn: [] },
      { name: 'b', dependsOn: ['a'] },
    ]);
    expect(g.nodes).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(g.mermaid).toBe(['flowchart TD', '  s0["a"]', '  s1["b"]', '  s0 --> s1'].join('\n'));
    expect(g.mermaid).not.toContain('classDef');
  });

  it('defines a class only for the states in use, once each', () => {
    const g = buildGraph([
      { name: 'a', dependsOn: [], state: 'resolved_manually' },
      { name: 'b', dependsOn: ['a'], state: 'resolved_manually' },
    ]);
    const defs = g.mermaid.split('\n').filter((l) => l.includes('classDef'));
    expect(defs).toEqual([`  classDef resolved_manually ${STYLE.resolved_manually}`]);
  });

  it('escapes quotes, markup and # in labels so a step name cannot break or inject into the chart', () => {
    const g = buildGraph([
      { name: 'say "hi"', dependsOn: [], state: 'pending' },
      { name: '<b>x</b>&#', dependsOn: ['say "hi"'] },
    ]);
    expect(g.mermaid.split('\n').slice(1, 4)).toEqual([
      '  s0["say #34;hi#34;<br/>pending"]:::pending',
      '  s1["#60;b#62;x#60;/b#62;#38;#35;"]',
      '  s0 --> s1',
    ]);
    expect(g.mermaid).not.toMatch(/<b>|"hi"/);
    // Node ids are positional, never the (untrusted) step name; the JSON keeps the real names.
    expect(g.nodes.map((n) => n.id)).toEqual(['say "hi"', '<b>x</b>&#']);
    expect(g.edges).toEqual([{ from: 'say "hi"', to: '<b>x</b>&#' }]);
  });

  it('keeps an edge to an unknown step in the JSON but leaves it out of the chart', () => {
    const g = buildGraph([{ name: 'a', dependsOn: ['ghost'], state: 'pending' }]);
    expect(g.edges).toEqual([{ from: 'ghost', to: 'a' }]);
    expect(g.mermaid).not.toContain('-->');
  });

  it('an empty graph is an empty flowchart', () => {
    expect(buildGraph([])).toEqual({ nodes: [], edges: [], mermaid: 'flowchart TD' });
  });
});

describe('buildGraph: dynamic workflows', () => {
  const reason = (r: string) => ({ reason: r });
  /** list → resize (a map step over 4 items) → zip, as getTask gives it: the instances after their map step. */
  function mapTask(states: string[]): GraphStep[] {
    const done = states.filter((s) => s === 'complete').length;
    const running = states.filter((s) => s === 'in_progress').length;
    const failed = states.filter((s) => s === 'error').length;
    return [
      { name: 'list', dependsOn: [], state: 'complete', attempts: 1, retryLimit: 3, readiness: reason('done') },
      {
        name: 'resize',
        dependsOn: ['list'],
        state: failed ? 'error' : 'waiting',
        attempts: 1,
        retryLimit: 1,
        readiness: reason(`waiting for ${states.length - done} of ${states.length} instances`),
        waitingFor: { kind: 'map' },
        instances: { total: states.length, done, running, failed },
      },
      ...states.map((state, i) => ({
        name: `resize[${i}]`,
        dependsOn: [],
        state,
        attempts: state === 'pending' ? 0 : 1,
        retryLimit: 1,
        readiness: reason(state === 'pending' ? 'waiting for a free place (maxParallel 2)' : state === 'error' ? 'attempts_exhausted' : 'running'),
        mapOf: 'resize',
        mapIndex: i,
      })),
      { name: 'zip', dependsOn: ['resize'], state: 'pending', attempts: 0, retryLimit: 3, readiness: reason('waiting_for_dependencies') },
    ];
  }

  it('a map step is one node with its instance counts; its instances are not nodes; edges to and from it stay', () => {
    const g = buildGraph(mapTask(['complete', 'complete', 'in_progress', 'error', 'pending']));
    expect(g.nodes.map((n) => n.id)).toEqual(['list', 'resize', 'zip']);
    expect(g.nodes[1]).toEqual({
      id: 'resize',
      state: 'error',
      attempts: 1,
      retryLimit: 1,
      reason: 'waiting for 3 of 5 instances',
      waitingFor: { kind: 'map' },
      instances: { total: 5, done: 2, running: 1, failed: 1, pending: 1 },
      label: 'resize ×5: 2 done, 1 running, 1 failed, 1 pending',
    });
    expect(g.edges).toEqual([
      { from: 'list', to: 'resize' },
      { from: 'resize', to: 'zip' },
    ]);
    expect(g.mermaid.split('\n')).toEqual([
      'flowchart TD',
      '  s0["list<br/>complete"]:::complete',
      '  s1["resize ×5: 2 done, 1 running, 1 failed, 1 pending<br/>error"]:::error',
      '  s2["zip<br/>pending"]:::pending',
      '  s0 --> s1',
      '  s1 --> s2',
      `  classDef complete ${STYLE.complete}`,
      `  classDef error ${STYLE.error}`,
      `  classDef pending ${STYLE.pending}`,
    ]);
  });

  it('zero counts are left out of the label: 7 done, 2 running, 1 failed', () => {
    const states = [...Array(7).fill('complete'), 'in_progress', 'in_progress', 'error'];
    expect(buildGraph(mapTask(states)).nodes[1].label).toBe('resize ×10: 7 done, 2 running, 1 failed');
    const empty = buildGraph([{ name: 'm', dependsOn: [], state: 'complete', instances: { total: 0, done: 0, running: 0, failed: 0 } }]);
    expect(empty.nodes[0]).toMatchObject({ label: 'm ×0', instances: { total: 0, pending: 0 } });
  });

  it('expanded, the instances are nodes linked from their map step (dotted), with their own states and reasons', () => {
    const g = buildGraph(mapTask(['complete', 'error', 'pending']), { expand: new Set(['resize']) });
    expect(g.nodes.map((n) => n.id)).toEqual(['list', 'resize', 'resize[0]', 'resize[1]', 'resize[2]', 'zip']);
    expect(g.nodes[1]).toMatchObject({ id: 'resize', expanded: { shown: 3 } });
    expect(g.nodes[3]).toEqual({ id: 'resize[1]', state: 'error', attempts: 1, retryLimit: 1, mapOf: 'resize', mapIndex: 1 });
    expect(g.nodes[4]).toEqual({
      id: 'resize[2]',
      state: 'pending',
      attempts: 0,
      retryLimit: 1,
      reason: 'waiting for a free place (maxParallel 2)',
      mapOf: 'resize',
      mapIndex: 2,
    });
    expect(g.edges).toEqual([
      { from: 'list', to: 'resize' },
      { from: 'resize', to: 'zip' },
      { from: 'resize', to: 'resize[0]', kind: 'instance' },
      { from: 'resize', to: 'resize[1]', kind: 'instance' },
      { from: 'resize', to: 'resize[2]', kind: 'instance' },
    ]);
    const lines = g.mermaid.split('\n');
    expect(lines).toContain('  s3["resize[1]<br/>error"]:::error');
    expect(lines).toContain('  s4["resize[2]<br/>pending<br/>waiting for a free place (maxParallel 2)"]:::pending');
    expect(lines).toContain('  s1 --> s5');
    expect(lines).toContain('  s1 -.-> s2');
    // '*' expands every map step; a step without instances is drawn as before.
    expect(buildGraph(mapTask(['complete']), { expand: '*' }).nodes.map((n) => n.id)).toEqual(['list', 'resize', 'resize[0]', 'zip']);
  });

  it('an expanded map step with too many instances shows the failed and running ones first, in item order', () => {
    const n = MAX_EXPANDED_INSTANCES + 50;
    const states = Array.from({ length: n }, (_, i) => (i === n - 1 ? 'error' : i === n - 2 ? 'in_progress' : 'complete'));
    const g = buildGraph(mapTask(states), { expand: new Set(['resize']) });
    const shown = g.nodes.filter((x) => x.mapOf === 'resize');
    expect(shown).toHaveLength(MAX_EXPANDED_INSTANCES);
    expect(shown.slice(-2).map((x) => x.id)).toEqual([`resize[${n - 2}]`, `resize[${n - 1}]`]);
    expect(shown[0].id).toBe('resize[0]');
    expect(g.nodes[1].expanded).toEqual({ shown: MAX_EXPANDED_INSTANCES });
    expect(g.mermaid).toContain(`<br/>${MAX_EXPANDED_INSTANCES} of ${n} instances shown<br/>`);
  });

  it('waiting and skipped nodes say why, styled by their own classes', () => {
    const g = buildGraph([
      { name: 'quote', dependsOn: [], state: 'complete', readiness: reason('done') },
      { name: 'express', dependsOn: ['quote'], state: 'skipped', attempts: 0, retryLimit: 3, readiness: reason('condition false') },
      { name: 'track', dependsOn: ['express'], state: 'skipped', attempts: 0, retryLimit: 3, readiness: reason('all parents skipped') },
      {
        name: 'ask',
        dependsOn: ['quote'],
        state: 'waiting',
        attempts: 1,
        retryLimit: 3,
        readiness: reason('waiting for signal "approved"'),
        waitingFor: { kind: 'signal', name: 'approved' },
      },
    ]);
    expect(g.nodes[1]).toEqual({ id: 'express', state: 'skipped', attempts: 0, retryLimit: 3, reason: 'condition false' });
    expect(g.nodes[3]).toEqual({
      id: 'ask',
      state: 'waiting',
      attempts: 1,
      retryLimit: 3,
      reason: 'waiting for signal "approved"',
      waitingFor: { kind: 'signal', name: 'approved' },
    });
    const lines = g.mermaid.split('\n');
    expect(lines).toContain('  s1["express<br/>skipped<br/>condition false"]:::skipped');
    expect(lines).toContain('  s2["track<br/>skipped<br/>all parents skipped"]:::skipped');
    expect(lines).toContain('  s3["ask<br/>waiting<br/>waiting for signal #34;approved#34;"]:::waiting');
    expect(lines.filter((l) => l.includes('classDef')).sort()).toEqual(
      [`  classDef complete ${STYLE.complete}`, `  classDef skipped ${STYLE.skipped}`, `  classDef waiting ${STYLE.waiting}`].sort(),
    );
  });
});
