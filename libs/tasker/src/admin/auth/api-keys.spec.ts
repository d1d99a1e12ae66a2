import { TaskerConfigError } from '../../errors/boot.errors';
import type { ApiKey } from '../admin-options.interface';
import { resolveAdminAuth } from './admin-auth';
import { bearerToken, findApiKey, parseApiKeys } from './api-keys';

const SECRET_A = 'alice-secret-0123456789';
const SECRET_D = 'dash-secret-0123456789';

/** The error parseApiKeys throws for `input`, checked to be a TaskerConfigError. */
function parseError(input: string | ApiKey[]): TaskerConfigError {
  try {
    parseApiKeys(input);
  } catch (e) {
    expect(e).toBeInstanceOf(TaskerConfigError);
    return e as TaskerConfigError;
  }
  throw new Error(`parseApiKeys accepted ${JSON.stringify(input)}`);
}

describe('parseApiKeys', () => {
  it('parses name:role:secret entries, trimming spaces and skipping empty ones', () => {
    expect(parseApiKeys(` alice:operator:${SECRET_A} ,, dash:viewer:${SECRET_D},`)).toEqual([
      { name: 'alice', role: 'operator', secret: SECRET_A },
      { name: 'dash', role: 'viewer', secret: SECRET_D },
    ]);
  });

  it('keeps colons inside the secret', () => {
    expect(parseApiKeys('ops:operator:abc:def:0123456789xyz')).toEqual([{ name: 'ops', role: 'operator', secret: 'abc:def:0123456789xyz' }]);
  });

  it('returns no keys for undefined, an empty string or an empty list', () => {
    expect(parseApiKeys(undefined)).toEqual([]);
    expect(parseApiKeys('')).toEqual([]);
    expect(parseApiKeys(' , ')).toEqual([]);
    expect(parseApiKeys([])).toEqual([]);
  });

  it('accepts key objects and copies only name, role and secret', () => {
    const extra = { name: 'bob@ops', role: 'viewer', secret: SECRET_D, note: 'x' } as ApiKey;
    expect(parseApiKeys([extra])).toEqual([{ name: 'bob@ops', role: 'viewer', secret: SECRET_D }]);
  });

  it('refuses an entry without three parts, naming its position', () => {
    expect(parseError(`alice:operator:${SECRET_A},dash:viewer`).message).toBe(
      'TASKER_API_KEYS entry 2 must be name:role:secret (role viewer or operator).',
    );
    expect(parseError(':operator:' + SECRET_A).message).toBe('TASKER_API_KEYS entry 1 must be name:role:secret (role viewer or operator).');
  });

  it('refuses an unknown role', () => {
    expect(parseError(`root:admin:${SECRET_A}`).message).toBe('API key 1 ("root"): the role must be viewer or operator.');
  });

  it('refuses a short secret without ever quoting it', () => {
    const e = parseError(`alice:operator:${SECRET_A},dash:viewer:short-secret-15`);
    expect(e.message).toBe('API key 2 ("dash"): the secret must be at least 16 characters.');
    expect(e.message).not.toContain('short-secret-15');
    expect(e.message).not.toContain(SECRET_A);
    // 16 characters is enough.
    expect(parseApiKeys('dash:viewer:0123456789abcdef')).toHaveLength(1);
  });

  it('refuses a secret no Bearer header can carry (spaces, tabs, control or non-ASCII characters, over 512 characters), without quoting it', () => {
    const bad = ['with a space-0123456789', 'tab\there-0123456789', 'bell\u0007-0123456789', 'süßer-geheimnis-0123456789', 'emoji-\u{1F511}-0123456789', 'x'.repeat(513)];
    for (const secret of bad) {
      const e = parseError([{ name: 'ops', role: 'operator', secret }]);
      expect(e.message).toMatch(/^API key 1 \("ops"\): the secret must be (printable ASCII without spaces|at most 512 characters)/);
      expect(e.message).not.toContain(secret);
      // Such a secret could never authenticate: the header parser refuses it as a token.
      expect(bearerToken(`Bearer ${secret}`)).toBeUndefined();
    }
    expect(parseError(`a:viewer:${SECRET_A},ops:operator:inner space-0123456789`).message).toBe(
      'API key 2 ("ops"): the secret must be printable ASCII without spaces (a Bearer token cannot carry spaces, tabs, control or non-ASCII characters).',
    );
    expect(parseError([{ name: 'ops', role: 'operator', secret: 'x'.repeat(513) }]).message).toBe(
      'API key 1 ("ops"): the secret must be at most 512 characters (a longer Bearer token is never accepted).',
    );
    // Every secret the boot accepts authenticates: 512 visible ASCII characters, all of them usable.
    const edge = Array.from({ length: 512 }, (_, i) => String.fromCharCode(0x21 + (i % 94))).join('');
    const [key] = parseApiKeys([{ name: 'ops', role: 'operator', secret: edge }]);
    expect(findApiKey([key], bearerToken(`Bearer ${edge}`)!)).toBe(key);
  });

  it('refuses a name used twice', () => {
    const e = parseError(`alice:operator:${SECRET_A},alice:viewer:${SECRET_D}`);
    expect(e.message).toBe('API key 2 ("alice"): the name is used twice.');
    expect(e.message).not.toContain(SECRET_A);
    expect(e.message).not.toContain(SECRET_D);
  });

  it('refuses a secret used by two keys (a viewer must never authenticate as an operator)', () => {
    const e = parseError(`alice:operator:${SECRET_A},dash:viewer:${SECRET_A}`);
    expect(e.message).toBe('API key 2 ("dash"): the secret is the same as another key\'s.');
    expect(e.message).not.toContain(SECRET_A);
  });

  it('refuses names that could not be recorded as an actor', () => {
    expect(parseError(`al ice:operator:${SECRET_A}`).message).toBe(
      'API key 1 ("al ice"): the name must be 1-64 letters, digits, "_", ".", "@" or "-".',
    );
    expect(parseError([{ name: 'x'.repeat(65), role: 'viewer', secret: SECRET_D }]).message).toContain('the name must be 1-64 letters');
    expect(parseError([{ role: 'viewer', secret: SECRET_D } as unknown as ApiKey]).message).toBe(
      'API key 1: the name must be 1-64 letters, digits, "_", ".", "@" or "-".',
    );
  });

  it('refuses key objects with a missing or non-string secret, without quoting it', () => {
    const e = parseError([{ name: 'a', role: 'viewer', secret: 1234567890123456 as unknown as string }]);
    expect(e.message).toBe('API key 1 ("a"): the secret must be at least 16 characters.');
    expect(e.message).not.toContain('1234567890123456');
    expect(parseError([{ name: 'a', role: 'viewer' } as ApiKey]).message).toBe('API key 1 ("a"): the secret must be at least 16 characters.');
  });

  it('never puts a secret in any error message, whatever is wrong', () => {
    const secret = 'never-show-this-secret';
    const inputs = [`bad name:operator:${secret}`, `a:root:${secret}`, `a:viewer:${secret},a:operator:${secret}`, `a:viewer:${secret},broken`];
    for (const input of inputs) expect(parseError(input).message).not.toContain(secret);
  });
});

describe('bearerToken', () => {
  it('takes the token of "Bearer <token>"', () => {
    expect(bearerToken(`Bearer ${SECRET_A}`)).toBe(SECRET_A);
    expect(bearerToken(`  Bearer ${SECRET_A}  `)).toBe(SECRET_A);
  });

  it('accepts the scheme in any case (RFC 7235)', () => {
    expect(bearerToken(`bearer ${SECRET_A}`)).toBe(SECRET_A);
    expect(bearerToken(`BEARER ${SECRET_A}`)).toBe(SECRET_A);
  });

  it('is undefined for an absent, non-string or malformed header', () => {
    for (const h of [undefined, null, 42, ['Bearer x'], '', 'Bearer', 'Bearer ', `Basic ${SECRET_A}`, SECRET_A, `Bearer  ${SECRET_A}`, 'Bearer a b', 'Bearer tök']) {
      expect(bearerToken(h)).toBeUndefined();
    }
  });

  it('refuses tokens longer than 512 characters', () => {
    expect(bearerToken(`Bearer ${'a'.repeat(512)}`)).toBe('a'.repeat(512));
    expect(bearerToken(`Bearer ${'a'.repeat(513)}`)).toBeUndefined();
  });
});

describe('findApiKey', () => {
  const keys: ApiKey[] = [
    { name: 'alice', role: 'operator', secret: SECRET_A },
    { name: 'dash', role: 'viewer', secret: SECRET_D },
  ];

  it('finds the key whose secret matches', () => {
    expect(findApiKey(keys, SECRET_A)).toBe(keys[0]);
    expect(findApiKey(keys, SECRET_D)).toBe(keys[1]);
  });

  it('finds nothing for a wrong, longer, shorter or empty secret, or with no keys', () => {
    expect(findApiKey(keys, 'wrong-secret-0123456789')).toBeUndefined();
    expect(findApiKey(keys, `${SECRET_A}x`)).toBeUndefined();
    expect(findApiKey(keys, SECRET_A.slice(0, -1))).toBeUndefined();
    expect(findApiKey(keys, '')).toBeUndefined();
    expect(findApiKey([], SECRET_A)).toBeUndefined();
  });
});

describe('resolveAdminAuth', () => {
  const keyEnv = `alice:operator:${SECRET_A}`;

  it('reads TASKER_API_KEYS from the environment', () => {
    expect(resolveAdminAuth({}, { TASKER_API_KEYS: keyEnv })).toEqual({ keys: [{ name: 'alice', role: 'operator', secret: SECRET_A }], insecure: false });
  });

  it('prefers apiKeys from the options over the environment', () => {
    const auth = resolveAdminAuth({ apiKeys: [{ name: 'dash', role: 'viewer', secret: SECRET_D }] }, { TASKER_API_KEYS: keyEnv });
    expect(auth.keys.map((k) => k.name)).toEqual(['dash']);
  });

  it('refuses to run without keys, saying what to set', () => {
    expect(() => resolveAdminAuth({}, {})).toThrow(TaskerConfigError);
    expect(() => resolveAdminAuth({}, { TASKER_API_KEYS: '' })).toThrow(
      'The Tasker admin API has no API keys. Set TASKER_API_KEYS="name:operator:<secret>,name:viewer:<secret>" ' +
        '(or apiKeys in TaskerAdminModule.forRoot), or TASKER_INSECURE=true for local development only.',
    );
    expect(() => resolveAdminAuth({}, { TASKER_INSECURE: '1' })).toThrow(TaskerConfigError);
  });

  it('runs open only when insecure is asked for explicitly', () => {
    expect(resolveAdminAuth({}, { TASKER_INSECURE: 'true' })).toEqual({ keys: [], insecure: true });
    expect(resolveAdminAuth({ insecure: true }, {})).toEqual({ keys: [], insecure: true });
    expect(() => resolveAdminAuth({ insecure: false }, { TASKER_INSECURE: 'true' })).toThrow(TaskerConfigError);
    // Configured keys always win over insecure mode.
    expect(resolveAdminAuth({ insecure: true }, { TASKER_API_KEYS: keyEnv })).toEqual({ keys: [{ name: 'alice', role: 'operator', secret: SECRET_A }], insecure: false });
  });
});
