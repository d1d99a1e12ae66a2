/**
 * Tasks and steps by state, for metrics. Unfinished states come from the small partial and state
 * indexes; finished ones are counted too, so a scrape costs a scan of the state index.
 */
export const stateCountsSql = (s: string) => `
SELECT 'task' AS kind, state, count(*)::int AS n FROM ${s}.tasks GROUP BY state
UNION ALL
SELECT 'step', state, count(*)::int FROM ${s}.workflow_steps GROUP BY state`;
