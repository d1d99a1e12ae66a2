/** "Did you mean" for names typed by hand (task types, step names). Pure. */

/** Edit distance (insertions, deletions, substitutions) between two strings. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The candidates close enough to `wanted` to be what was meant, closest first: a difference of
 * about one character in three, so a name only matches on a slip, not on a different word (nor one short name on another).
 */
export function closestNames(wanted: string, candidates: Iterable<string>, limit = 3): string[] {
  const w = wanted.toLowerCase();
  const scored: { name: string; distance: number }[] = [];
  for (const name of new Set(candidates)) {
    if (name === wanted) continue;
    const distance = editDistance(w, name.toLowerCase());
    if (distance <= Math.floor(Math.max(w.length, name.length) / 3)) scored.push({ name, distance });
  }
  return scored
    .sort((x, y) => x.distance - y.distance || x.name.localeCompare(y.name))
    .slice(0, limit)
    .map((s) => s.name);
}

/**
 * The registered task types ("namespace/name") a request for `namespace/name` probably meant:
 * the same name in another namespace first, then near names in any namespace.
 */
export function closestTaskTypes(namespace: string, name: string, registered: Iterable<string>, limit = 3): string[] {
  const all = [...new Set(registered)];
  const sameName = all.filter((t) => t.slice(t.indexOf('/') + 1) === name && t !== `${namespace}/${name}`).sort();
  const near = closestNames(`${namespace}/${name}`, all).filter((t) => !sameName.includes(t));
  return [...sameName, ...near].slice(0, limit);
}
