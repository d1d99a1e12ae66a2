/** Names derived from the configured schema, shared by the migrations and the library. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The LISTEN/NOTIFY channel that wakes the workers of one schema. */
export function wakeChannel(schema: string): string {
  return `tasker:${schema}`.slice(0, 63);
}
