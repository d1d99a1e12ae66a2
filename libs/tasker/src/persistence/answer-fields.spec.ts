import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLAIM_FIELDS, TRANSITION_FIELDS } from './step.repository';

/** The attribute names of a composite type in the committed schema dump (which a test keeps equal to the migrations). */
function attributes(type: string): string[] {
  const dump = readFileSync(join(__dirname, '..', '..', '..', '..', 'schema.sql'), 'utf8');
  const block = new RegExp(`CREATE TYPE tasker\\.${type} AS \\(\\n([\\s\\S]*?)\\n\\);`).exec(dump);
  if (!block) throw new Error(`schema.sql has no type ${type}`);
  return block[1].split('\n').map((line) => line.trim().split(' ')[0]);
}

// The worker's answers are built field by field: a field added to a type and not to these lists
// would silently never reach the worker.
describe('the fields of the worker statements’ answers', () => {
  it('are every attribute of transition_event, in order', () => {
    expect(TRANSITION_FIELDS).toEqual(attributes('transition_event'));
  });

  it('are every attribute of claimed_step, in order', () => {
    expect(CLAIM_FIELDS).toEqual(attributes('claimed_step'));
  });
});
