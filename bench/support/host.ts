/**
 * How fast this host is right now, by fixed work that no change of Tasker touches: the VMs the
 * bench runs on drift by a third within a session, so a figure that moved can be told from a host
 * that did. Measured before the workloads and after them; lower is faster.
 */
import type { Client } from 'pg';

export interface HostReference {
  /** JSON.stringify + JSON.parse of a fixed 2,000-entry object, 20 times (the worker's kind of CPU work): ms, median of 5. */
  nodeMs: number;
  /** `SELECT 1` from this client: µs per round trip, median of 500. */
  roundTripUs: number;
  /** `SELECT count(*) FROM generate_series(1, 1000000)` on the server: ms, median of 5. */
  serverMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function hostReference(pg: Client): Promise<HostReference> {
  const doc = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, { i, s: `value ${i}`, ok: i % 2 === 0 }]));
  const node: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < 20; i++) JSON.parse(JSON.stringify(doc));
    node.push(performance.now() - t);
  }
  const trips: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    await pg.query('SELECT 1');
    trips.push((performance.now() - t) * 1_000);
  }
  const server: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    await pg.query('SELECT count(*) FROM generate_series(1, 1000000)');
    server.push(performance.now() - t);
  }
  return { nodeMs: median(node), roundTripUs: median(trips), serverMs: median(server) };
}

export const describeHost = (h: HostReference) =>
  `node ${h.nodeMs.toFixed(1)} ms, SELECT 1 round trip ${h.roundTripUs.toFixed(0)} µs, server count of 1M rows ${h.serverMs.toFixed(1)} ms`;
