import { Client } from 'pg';

/** The engine's tables whose growth a plan must not follow: a scan of any of them whole reads history. */
const TABLES = '(workflow_steps|tasks|workflow_step_edges|signals|task_transitions|workflow_step_transitions)';
const WHOLE_TABLE_SCAN = new RegExp(`Seq Scan on ${TABLES}\\b`);
const INDEX_SCAN = new RegExp(`Index (Only )?Scan (Backward )?using \\S+ on ${TABLES}\\b`);
/** A bitmap scan names the index only, whose name starts with its table's. */
const BITMAP_INDEX_SCAN = new RegExp(`Bitmap Index Scan on ${TABLES}_`);

/** Lines of these plans that scan one of the engine's tables whole. */
export function wholeTableScans(plans: string[]): string[] {
  return plans.flatMap((p) => p.split('\n').filter((line) => WHOLE_TABLE_SCAN.test(line))).map((line) => line.trim());
}

/**
 * Index scans that read a whole index: an index scan node (plain, index-only or bitmap) of one of
 * the engine's tables with no `Index Cond` among its own lines (every entry read), which a planner
 * forbidden sequential scans can choose instead.
 */
export function wholeIndexScans(plans: string[]): string[] {
  const found: string[] = [];
  for (const plan of plans) {
    const lines = plan.split('\n');
    lines.forEach((line, i) => {
      if (!INDEX_SCAN.test(line) && !BITMAP_INDEX_SCAN.test(line)) return;
      const indent = line.search(/\S/);
      let conditioned = false;
      for (let j = i + 1; j < lines.length; j++) {
        const next = lines[j];
        if (next.trim() === '' || next.search(/\S/) <= indent || next.trim().startsWith('->')) break;
        if (next.includes('Index Cond:')) conditioned = true;
      }
      if (!conditioned) found.push(line.trim());
    });
  }
  return found;
}

/**
 * Has every statement this client runs, the ones inside functions too, explained by auto_explain
 * and sent back as a notice; returns the plans received so far (empty it to start afresh).
 */
export async function explainNestedStatements(client: Client): Promise<string[]> {
  const plans: string[] = [];
  client.on('notice', (n) => plans.push(n.message ?? ''));
  await client.query(`LOAD 'auto_explain'`);
  for (const setting of ['log_min_duration = 0', 'log_nested_statements = on', 'log_level = notice']) {
    await client.query(`SET auto_explain.${setting}`);
  }
  await client.query('SET client_min_messages = notice');
  return plans;
}
