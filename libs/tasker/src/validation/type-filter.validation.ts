import type { FieldError } from '../errors/service.errors';
import { FIELD_FILTER_NOT_OBJECT, FIELD_NAMESPACE_FILTER, FIELD_TASK_NAME_FILTER, FIELD_UNKNOWN_FILTER } from '../tasker.messages';
import { isValidName } from './names.validation';

/** The problems of a `{ namespace?, name? }` filter of task types (listTaskTypes, listSchedules). */
export function typeFilterProblems(filter: unknown): FieldError[] {
  const problems: FieldError[] = [];
  if (filter === null || typeof filter !== 'object') return [{ field: 'filter', messages: [FIELD_FILTER_NOT_OBJECT()] }];
  const f = filter as { namespace?: unknown; name?: unknown };
  for (const key of Object.keys(f)) if (key !== 'namespace' && key !== 'name') problems.push({ field: key, messages: [FIELD_UNKNOWN_FILTER()] });
  if (f.namespace !== undefined && !isValidName(f.namespace)) problems.push({ field: 'namespace', messages: [FIELD_NAMESPACE_FILTER()] });
  if (f.name !== undefined && !isValidName(f.name)) problems.push({ field: 'name', messages: [FIELD_TASK_NAME_FILTER()] });
  return problems;
}
