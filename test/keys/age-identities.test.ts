import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultAgeKeysFile, gatherIdentities, parseIdentityText } from '../../src/keys/age/identities.js';
import { generateAgeKey } from '../../src/keys/age/keygen.js';
import { TsopsError } from '../../src/errors.js';
import { SPEC_IDENTITY, isolatedEnv, tempDir } from './helpers.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

async function failureOf(promise: Promise<unknown>): Promise<string> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TsopsError);
  const message = (e as Error).message;
  expect(message).not.toMatch(/AGE-SECRET-KEY|G0Q5K9/i);
  return message;
}

function syncFailureOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TsopsError);
    return (e as Error).message;
  }
  throw new Error('expected a failure');
}

/** A node script run as SOPS_AGE_KEY_CMD, quoted as a shell-like command line. */
function keyCommand(body: string): string {
  const script = join(dir.root, `cmd-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, body);
  return `'${process.execPath}' '${script}'`;
}

describe('defaultAgeKeysFile', () => {
  it.each<[NodeJS.Platform, NodeJS.ProcessEnv, string]>([
    ['linux', { HOME: '/home/u' }, '/home/u/.config/sops/age/keys.txt'],
    ['linux', { HOME: '/home/u', XDG_CONFIG_HOME: '/xdg' }, '/xdg/sops/age/keys.txt'],
    ['freebsd', { HOME: '/home/u' }, '/home/u/.config/sops/age/keys.txt'],
    ['darwin', { HOME: '/Users/u' }, '/Users/u/Library/Application Support/sops/age/keys.txt'],
    ['darwin', { HOME: '/Users/u', XDG_CONFIG_HOME: '/xdg' }, '/xdg/sops/age/keys.txt'],
  ])('on %s with %j is %s', (platform, env, expected) => {
    expect(defaultAgeKeysFile(env, platform)).toBe(expected);
  });

  it('uses %AppData% on Windows', () => {
    expect(defaultAgeKeysFile({ AppData: 'C:\\Users\\u\\AppData\\Roaming', XDG_CONFIG_HOME: '/ignored' }, 'win32')).toMatch(/^C:\\Users\\u\\AppData\\Roaming[\\/]sops[\\/]age[\\/]keys\.txt$/);
  });

  it('fails clearly when no directory can be named', () => {
    expect(syncFailureOf(() => defaultAgeKeysFile({}, 'linux'))).toBe('cannot find the age keys file: neither $XDG_CONFIG_HOME nor $HOME is set');
    expect(syncFailureOf(() => defaultAgeKeysFile({ HOME: '/h' }, 'win32'))).toBe('cannot find the age keys file: %AppData% is not set');
  });
});

describe('parseIdentityText', () => {
  it('skips empty lines and comments and tolerates CRLF', () => {
    const text = `# created: now\r\n\r\n${SPEC_IDENTITY}\r\n#${SPEC_IDENTITY}\n\n`;
    expect(parseIdentityText(text, 'f')).toEqual({ identities: [SPEC_IDENTITY], skippedPlugins: 0 });
  });

  it('does not trim lines: a leading or trailing blank makes the line bad', () => {
    expect(syncFailureOf(() => parseIdentityText(`\n  ${SPEC_IDENTITY}`, 'keys.txt'))).toBe('unknown identity type in keys.txt line 2');
    expect(syncFailureOf(() => parseIdentityText(`${SPEC_IDENTITY} `, 'keys.txt'))).toBe('malformed age identity in keys.txt line 1');
    expect(syncFailureOf(() => parseIdentityText(`# ok\n   \n`, 'keys.txt'))).toBe('unknown identity type in keys.txt line 2');
  });

  it('names a bad line by number only', () => {
    const secretish = 'age-secret-key-1g0q5k9tv4req3zsqrmtmg8nswqgyt0t7tz33razee0gzyvzn0apsu24rk7';
    const message = syncFailureOf(() => parseIdentityText(`${SPEC_IDENTITY}\n${secretish}\n`, 'the file'));
    expect(message).toBe('unknown identity type in the file line 2');
    expect(message).not.toContain('g0q5k9');
  });

  it('rejects an identity with a bad checksum', () => {
    const broken = `${SPEC_IDENTITY.slice(0, -1)}8`;
    expect(syncFailureOf(() => parseIdentityText(broken, 'src'))).toBe('malformed age identity in src line 1');
  });

  it('skips plugin identities and counts them', () => {
    expect(parseIdentityText(`AGE-PLUGIN-YUBIKEY-1ABC\n${SPEC_IDENTITY}\n`, 'f')).toEqual({ identities: [SPEC_IDENTITY], skippedPlugins: 1 });
  });

  it('splits on any whitespace when several identities may share a line', async () => {
    const other = (await generateAgeKey()).identity;
    expect(parseIdentityText(`${SPEC_IDENTITY} \t ${other}\n  ${other}\n`, 'SOPS_AGE_KEY', true).identities).toEqual([SPEC_IDENTITY, other, other]);
  });
});

describe('gatherIdentities', () => {
  it('reads every source in sops order, and the default file even when the variables are set', async () => {
    const keys = await Promise.all([0, 1, 2, 3, 4, 5].map(() => generateAgeKey()));
    const keyFile = join(dir.root, 'file.txt');
    writeFileSync(keyFile, `# created: 2024-01-01\n# public key: ${keys[2]!.recipient}\n${keys[2]!.identity}\n\n${keys[3]!.identity}\n`);
    const env = isolatedEnv(dir.root, {
      SOPS_AGE_KEY: `${keys[0]!.identity} ${keys[1]!.identity}`,
      SOPS_AGE_KEY_FILE: keyFile,
      SOPS_AGE_KEY_CMD: keyCommand(`console.log(${JSON.stringify(keys[4]!.identity)});\n`),
    });
    const defaultFile = join(dir.root, 'config/sops/age/keys.txt');
    mkdirSync(join(dir.root, 'config/sops/age'), { recursive: true });
    writeFileSync(defaultFile, `${keys[5]!.identity}\n`);
    const given = (await generateAgeKey()).identity;

    const found = await gatherIdentities(env, [given], 'age1whatever');
    expect(found.sources).toEqual([
      { name: 'the identities given', count: 1, skippedPlugins: 0 },
      { name: 'SOPS_AGE_KEY', count: 2, skippedPlugins: 0 },
      { name: 'SOPS_AGE_KEY_FILE', count: 2, skippedPlugins: 0 },
      { name: 'SOPS_AGE_KEY_CMD', count: 1, skippedPlugins: 0 },
      { name: defaultFile, count: 1, skippedPlugins: 0 },
    ]);
    expect(found.x25519).toHaveLength(7);
    expect(found.hybrid).toEqual([]);
  });

  it('reads nothing when nothing is configured', async () => {
    expect(await gatherIdentities(isolatedEnv(dir.root))).toEqual({ sources: [], x25519: [], hybrid: [] });
  });

  it('fails when SOPS_AGE_KEY_FILE cannot be read', async () => {
    const missing = join(dir.root, 'nope.txt');
    expect(await failureOf(gatherIdentities(isolatedEnv(dir.root, { SOPS_AGE_KEY_FILE: missing })))).toBe(`cannot read SOPS_AGE_KEY_FILE ${missing}: no such file`);
    expect(await failureOf(gatherIdentities(isolatedEnv(dir.root, { SOPS_AGE_KEY_FILE: dir.root })))).toBe(`cannot read SOPS_AGE_KEY_FILE ${dir.root}: is a directory`);
  });

  it.skipIf(process.getuid?.() === 0)('fails when the default file exists but is unreadable', async () => {
    const defaultFile = join(dir.root, 'config/sops/age/keys.txt');
    mkdirSync(join(dir.root, 'config/sops/age'), { recursive: true });
    writeFileSync(defaultFile, `${SPEC_IDENTITY}\n`);
    chmodSync(defaultFile, 0o000);
    expect(await failureOf(gatherIdentities(isolatedEnv(dir.root)))).toBe(`cannot read ${defaultFile}: permission denied`);
  });

  it('reports a bad line in the default file by file and line', async () => {
    const defaultFile = join(dir.root, 'config/sops/age/keys.txt');
    mkdirSync(join(dir.root, 'config/sops/age'), { recursive: true });
    writeFileSync(defaultFile, `# one\n${SPEC_IDENTITY}\nsomething-else\n`);
    expect(await failureOf(gatherIdentities(isolatedEnv(dir.root)))).toBe(`unknown identity type in ${defaultFile} line 3`);
  });

  describe('SOPS_AGE_KEY_CMD', () => {
    it('runs without a shell, with SOPS_AGE_RECIPIENT set, one identity a line', async () => {
      const marker = join(dir.root, 'marker');
      const command = `${keyCommand(
        `if (process.env.SOPS_AGE_RECIPIENT !== 'age1target') process.exit(9);\n` +
          `if (process.argv.slice(2).join('|') !== 'a b|;|touch|${marker}') process.exit(8);\n` +
          `console.log('# from the command\\n${SPEC_IDENTITY}');\n`,
      )} "a b" ';' touch ${marker}`;
      const found = await gatherIdentities(isolatedEnv(dir.root, { SOPS_AGE_KEY_CMD: command }), [], 'age1target');
      expect(found.sources).toEqual([{ name: 'SOPS_AGE_KEY_CMD', count: 1, skippedPlugins: 0 }]);
      expect(existsSync(marker)).toBe(false);
    });

    it('reports the exit status', async () => {
      const command = keyCommand(`console.log(${JSON.stringify(SPEC_IDENTITY)}); console.error('oops ${SPEC_IDENTITY}'); process.exit(3);\n`);
      expect(await failureOf(gatherIdentities(isolatedEnv(dir.root, { SOPS_AGE_KEY_CMD: command })))).toBe('SOPS_AGE_KEY_CMD failed: exit 3');
    });

    it('reports a missing command, an empty one and bad quoting', async () => {
      const env = (cmd: string): NodeJS.ProcessEnv => isolatedEnv(dir.root, { SOPS_AGE_KEY_CMD: cmd });
      expect(await failureOf(gatherIdentities(env('/nonexistent/key-tool --flag')))).toBe('SOPS_AGE_KEY_CMD failed: command not found: /nonexistent/key-tool');
      expect(await failureOf(gatherIdentities(env('  ""  ')))).toBe('SOPS_AGE_KEY_CMD is empty');
      expect(await failureOf(gatherIdentities(env(`tool 'unclosed`)))).toBe('SOPS_AGE_KEY_CMD has an unterminated quote');
    });

    it('reports a bad output line without quoting it', async () => {
      const command = keyCommand(`console.log('${SPEC_IDENTITY.toLowerCase()}');\n`);
      expect(await failureOf(gatherIdentities(isolatedEnv(dir.root, { SOPS_AGE_KEY_CMD: command })))).toBe('unknown identity type in SOPS_AGE_KEY_CMD output line 1');
    });
  });
});
