import { isValidName } from './names.validation';

describe('isValidName', () => {
  it('accepts letters, digits, _ . : - up to 128 characters', () => {
    for (const ok of ['a', 'order_processing', 'v1.2.3', 'ns:sub-part', '_x', '9lives', 'a'.repeat(128)]) expect(isValidName(ok)).toBe(true);
  });
  it('rejects the rest', () => {
    for (const bad of ['', ' a', 'a b', '-a', '.a', 'a/b', 'é', 'a'.repeat(129), 1, null, undefined]) expect(isValidName(bad)).toBe(false);
  });
});
