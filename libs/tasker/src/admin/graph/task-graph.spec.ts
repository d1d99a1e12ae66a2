import { buildGraph } from './task-graph';

const STYLE = {
  pending: 'fill:#f4f4f5,stroke:#71717a,color:#18181b',
  complete: 'fill:#dcfce7,stroke:#16a34a,color:#14532d',
  error: 'fill:#fee2e2,stroke:#dc2626,color:#7f1d1d',
  resolved_manually: 'fill:#fef9c3,stroke:#ca8a04,color:#713f12',
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
