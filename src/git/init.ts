import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { refuseSymlink } from './repo.js';
import { PERSONAL_KIND } from '../keys/registry.js';

export interface InitChoices {
  /** Where the config goes (the repository root). */
  dir: string;
  /** Regex of the files to encrypt, e.g. `\.enc\.(yaml|json|env)$` or `^secrets/`. */
  pathRegex: string;
  /** Recipients to encrypt for; the user's own key is added when `createKey`. */
  recipients: string[];
  createKey: boolean;
  /** Plaintext files to keep out of git, e.g. `*.dec.yaml`, `.env`. */
  ignore: string[];
  env: NodeJS.ProcessEnv;
}

export interface InitResult {
  keyCreated?: { path: string; recipient: string };
  configWritten: boolean;
  ignoreAdded: string[];
}

/** Reads the recipient of the first identity in the default keys file, if there is one. */
export function existingRecipient(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return PERSONAL_KIND.personal.publicKeyIn(readFileSync(PERSONAL_KIND.personal.defaultKeysFile(env), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Sets a repository up for tsops: an age identity when the user has none, a
 * `.sopsrc` with one creation rule, plaintext patterns in `.gitignore`. Every
 * step checks first, so running it again changes nothing.
 */
export async function initRepository(choices: InitChoices): Promise<InitResult> {
  const result: InitResult = { configWritten: false, ignoreAdded: [] };
  // Checked before anything is written: a refusal leaves the repository as it was.
  if (choices.ignore.length) refuseSymlink(join(choices.dir, '.gitignore'));
  const recipients = [...choices.recipients];
  if (choices.createKey) {
    const own = existingRecipient(choices.env);
    if (own) recipients.unshift(own);
    else {
      const path = PERSONAL_KIND.personal.defaultKeysFile(choices.env);
      const recipient = await PERSONAL_KIND.personal.addIdentity(path);
      result.keyCreated = { path, recipient };
      recipients.unshift(recipient);
    }
  }
  const unique = [...new Set(recipients)];
  const configPath = join(choices.dir, '.sopsrc');
  // A dangling link counts as present: the config is never written through a link.
  const existingConfig = ['.sopsrc', '.sops.yaml', '.sops.yml'].some((n) => lstatSync(join(choices.dir, n), { throwIfNoEntry: false }) !== undefined);
  if (!existingConfig && unique.length) {
    const body = [
      '# tsops (and sops) config: which files are encrypted, and for whom.',
      '# Reference: docs/config.md in the tsops repository.',
      'creation_rules:',
      `  - path_regex: ${JSON.stringify(choices.pathRegex)}`,
      `    ${PERSONAL_KIND.config.ruleFields[0]}: >-`,
      ...unique.map((r, i) => `      ${r}${i < unique.length - 1 ? ',' : ''}`),
      '',
    ].join('\n');
    await writeFileAtomic(configPath, Buffer.from(body), { mode: 0o644 });
    result.configWritten = true;
  }
  if (choices.ignore.length) {
    const ignorePath = join(choices.dir, '.gitignore');
    const existing = existsSync(ignorePath) ? readFileSync(ignorePath, 'utf8') : '';
    const have = new Set(existing.split('\n').map((l) => l.trim()));
    const add = choices.ignore.filter((p) => !have.has(p));
    if (add.length) {
      const header = have.has('# plaintext secrets (tsops)') ? [] : ['# plaintext secrets (tsops)'];
      await writeFileAtomic(ignorePath, Buffer.from(existing + (existing && !existing.endsWith('\n') ? '\n' : '') + [...header, ...add].join('\n') + '\n'), { mode: 0o644 });
      result.ignoreAdded = add;
    }
  }
  return result;
}
