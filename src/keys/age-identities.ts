import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { splitCommand } from '../io/editor.js';

/** One place identities came from, for error messages ("tried 2 identities from SOPS_AGE_KEY_FILE"). */
export interface IdentitySource {
  name: string;
  identities: string[];
}

/** `<userConfigDir>/sops/age/keys.txt`, as sops computes it per platform. */
export function defaultAgeKeysFile(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env['HOME'] || homedir();
  let base: string;
  if (platform === 'win32') base = env['AppData'] ?? env['APPDATA'] ?? join(home, 'AppData', 'Roaming');
  else if (platform === 'darwin') base = env['XDG_CONFIG_HOME'] || join(home, 'Library', 'Application Support');
  else base = env['XDG_CONFIG_HOME'] || join(home, '.config');
  return join(base, 'sops', 'age', 'keys.txt');
}

/**
 * Parses an identity file: blank lines and `#` comments skipped, one identity a
 * line. A line that is not an identity is reported by number, never quoted.
 */
export function parseIdentities(text: string, source: string, splitWhitespace = false): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) return;
    const pieces = splitWhitespace ? line.split(/\s+/).filter(Boolean) : [line.trim()];
    for (const piece of pieces) {
      if (piece.startsWith('AGE-SECRET-KEY-1') || piece.startsWith('AGE-SECRET-KEY-PQ-1')) out.push(piece);
      else if (piece.startsWith('AGE-PLUGIN-')) throw new Error(`age plugin identities are not supported (${source} line ${i + 1})`);
      else throw new Error(`unknown identity type in ${source} line ${i + 1}`);
    }
  });
  return out;
}

function runKeyCommand(command: string, recipient: string, env: NodeJS.ProcessEnv): Promise<string> {
  const [bin, ...args] = splitCommand(command);
  if (!bin) return Promise.reject(new Error('SOPS_AGE_KEY_CMD is empty'));
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env: { ...env, SOPS_AGE_RECIPIENT: recipient }, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reject(new Error(`SOPS_AGE_KEY_CMD failed: ${code === 'ENOENT' ? 'command not found' : typeof code === 'number' ? `exit ${code}` : err.killed ? 'timed out' : 'error'}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

/** Every identity sops would use, in sops's order (spec §5.1); the default keys file is read whenever it exists. */
export async function gatherIdentities(env: NodeJS.ProcessEnv, extra: string[] = [], recipient = ''): Promise<IdentitySource[]> {
  const sources: IdentitySource[] = [];
  if (extra.length) sources.push({ name: 'the identities given', identities: extra.flatMap((t) => parseIdentities(t, 'the identities given', true)) });
  const inline = env['SOPS_AGE_KEY'];
  if (inline) sources.push({ name: 'SOPS_AGE_KEY', identities: parseIdentities(inline, 'SOPS_AGE_KEY', true) });
  const file = env['SOPS_AGE_KEY_FILE'];
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read SOPS_AGE_KEY_FILE ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    sources.push({ name: `SOPS_AGE_KEY_FILE (${file})`, identities: parseIdentities(text, file) });
  }
  const command = env['SOPS_AGE_KEY_CMD'];
  if (command) sources.push({ name: 'SOPS_AGE_KEY_CMD', identities: parseIdentities(await runKeyCommand(command, recipient, env), 'SOPS_AGE_KEY_CMD output') });
  const defaultFile = defaultAgeKeysFile(env);
  if (existsSync(defaultFile)) sources.push({ name: defaultFile, identities: parseIdentities(readFileSync(defaultFile, 'utf8'), defaultFile) });
  return sources;
}
