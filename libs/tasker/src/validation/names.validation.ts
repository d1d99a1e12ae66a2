import { NAME_PATTERN } from '../tasker.constants';

/** Names of tasks, namespaces, versions and steps: 1-128 letters, digits, "_", ".", ":" or "-" (NAME_PATTERN). */
export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}
