import { readFileSync } from 'node:fs';
import { TsopsError } from '../../errors.js';
import { splitCommand } from '../../io/split-command.js';
import { bech32Decode } from './bech32.js';
import { defaultAgeKeysFile } from './keys-file.js';
import { parseX25519Identity, type X25519Identity } from './x25519.js';

const X25519_PREFIX = 'AGE-SECRET-KEY-1';
const HYBRID_PREFIX = 'AGE-SECRET-KEY-PQ-1';
const PLUGIN_PREFIX = 'AGE-PLUGIN-';
const KEY_CMD_TIMEOUT_MS = 60_000;

/** One place identities came from, for failure messages ("tried 2 identities from SOPS_AGE_KEY_FILE"). */
export interface IdentitySource {
  name: string;
  /** Identities taken from this source. */
  count: number;
  /** Plugin identities, which tsops cannot use, found in this source. */
  skippedPlugins: number;
}

export interface AgeIdentities {
  sources: IdentitySource[];
  x25519: X25519Identity[];
  /** Post-quantum hybrid identities, handled by the age library. */
  hybrid: string[];
}


interface ParsedText {
  identities: string[];
  skippedPlugins: number;
}

/**
 * Reads identity text: empty lines and `#` comments are skipped, and lines are
 * not trimmed (a stray space makes the line unknown, as in sops). A bad line is
 * reported by number, never quoted, since it may hold most of a secret key.
 */
export function parseIdentityText(text: string, source: string, severalPerLine = false): ParsedText {
  const identities: string[] = [];
  let skippedPlugins = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (line === '' || line.startsWith('#')) continue;
    const pieces = severalPerLine ? line.split(/\s+/).filter(Boolean) : [line];
    for (const piece of pieces) {
      const where = `${source} line ${i + 1}`;
      if (piece.startsWith(PLUGIN_PREFIX)) skippedPlugins++;
      else if (piece.startsWith(HYBRID_PREFIX)) identities.push(checkEncoding(piece, 'age-secret-key-pq-', where));
      else if (piece.startsWith(X25519_PREFIX)) identities.push(checkEncoding(piece, 'age-secret-key-', where));
      else throw new TsopsError(`unknown identity type in ${where}`);
    }
  }
  return { identities, skippedPlugins };
}

function checkEncoding(identity: string, hrp: string, where: string): string {
  const decoded = bech32Decode(identity);
  const valid = decoded !== undefined && decoded.hrp === hrp;
  decoded?.data.fill(0);
  if (!valid) throw new TsopsError(`malformed age identity in ${where}`);
  return identity;
}

/** File contents as text; the bytes read are zeroed (the string cannot be). */
async function readSecretText(path: string): Promise<string> {
  const bytes = readFileSync(path);
  try {
    return bytes.toString('utf8');
  } finally {
    bytes.fill(0);
  }
}

function systemReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return code ?? 'read error';
}

async function runKeyCommand(command: string, recipient: string, env: NodeJS.ProcessEnv): Promise<string> {
  let argv: string[];
  try {
    argv = splitCommand(command);
  } catch {
    return Promise.reject(new TsopsError('SOPS_AGE_KEY_CMD has an unterminated quote'));
  }
  const [bin, ...args] = argv;
  if (!bin) return Promise.reject(new TsopsError('SOPS_AGE_KEY_CMD is empty'));
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const options = { env: { ...env, SOPS_AGE_RECIPIENT: recipient }, timeout: KEY_CMD_TIMEOUT_MS, killSignal: 'SIGKILL' as const, maxBuffer: 1 << 20, encoding: 'buffer' as const };
    execFile(bin, args, options, (err, stdout) => {
      try {
        if (!err) {
          resolve(stdout.toString('utf8'));
          return;
        }
        const code = (err as { code?: unknown }).code;
        let why: string;
        if (code === 'ENOENT') why = `command not found: ${bin}`;
        else if (err.killed) why = 'timed out';
        else if (typeof code === 'number') why = `exit ${code}`;
        else if ((err as { signal?: unknown }).signal) why = `killed by ${String((err as { signal?: unknown }).signal)}`;
        else why = typeof code === 'string' ? code : 'could not run';
        reject(new TsopsError(`SOPS_AGE_KEY_CMD failed: ${why}`));
      } finally {
        stdout.fill(0);
      }
    });
  });
}

/**
 * Every identity sops would use, in sops's order (docs/format.md#age): the given ones,
 * SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, then the default keys
 * file whenever it exists. `recipient` is passed to the key command.
 */
export async function gatherIdentities(env: NodeJS.ProcessEnv, given: readonly string[] = [], recipient = ''): Promise<AgeIdentities> {
  const texts: { name: string; parsed: ParsedText }[] = [];
  if (given.length) {
    const name = 'the identities given';
    const parsed = given.map((text) => parseIdentityText(text, name, true));
    texts.push({ name, parsed: { identities: parsed.flatMap((p) => p.identities), skippedPlugins: parsed.reduce((n, p) => n + p.skippedPlugins, 0) } });
  }
  const inline = env['SOPS_AGE_KEY'];
  if (inline) texts.push({ name: 'SOPS_AGE_KEY', parsed: parseIdentityText(inline, 'SOPS_AGE_KEY', true) });
  const keyFile = env['SOPS_AGE_KEY_FILE'];
  if (keyFile) {
    let text: string;
    try {
      text = await readSecretText(keyFile);
    } catch (e) {
      throw new TsopsError(`cannot read SOPS_AGE_KEY_FILE ${keyFile}: ${systemReason(e)}`);
    }
    texts.push({ name: 'SOPS_AGE_KEY_FILE', parsed: parseIdentityText(text, keyFile) });
  }
  const command = env['SOPS_AGE_KEY_CMD'];
  if (command) texts.push({ name: 'SOPS_AGE_KEY_CMD', parsed: parseIdentityText(await runKeyCommand(command, recipient, env), 'SOPS_AGE_KEY_CMD output') });
  const defaultFile = tryDefaultAgeKeysFile(env);
  if (defaultFile) {
    const text = await readSecretText(defaultFile).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new TsopsError(`cannot read ${defaultFile}: ${systemReason(e)}`);
    });
    if (text !== undefined) texts.push({ name: defaultFile, parsed: parseIdentityText(text, defaultFile) });
  }

  const result: AgeIdentities = { sources: [], x25519: [], hybrid: [] };
  for (const { name, parsed } of texts) {
    for (const identity of parsed.identities) {
      if (identity.startsWith(HYBRID_PREFIX)) {
        result.hybrid.push(identity);
      } else {
        const x25519 = parseX25519Identity(identity);
        if (!x25519) throw new TsopsError(`malformed age identity in ${name}`);
        result.x25519.push(x25519);
      }
    }
    result.sources.push({ name, count: parsed.identities.length, skippedPlugins: parsed.skippedPlugins });
  }
  return result;
}

export function tryDefaultAgeKeysFile(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return defaultAgeKeysFile(env);
  } catch {
    return undefined;
  }
}

export { defaultAgeKeysFile };
