import { existsSync, readFileSync } from 'node:fs';
import { loadFormat } from '../formats/format.js';
import { keyIdentity, type KeyRecord } from '../keys/masterkey.js';
import type { FormatName } from '../tree.js';
import type { EncryptSettings } from './index.js';
import { OpenedFile, type OpenFileOptions } from './opened-file.js';

/**
 * For encrypt's --reuse-data-key: the encrypted file already at `path`,
 * opened, when it uses the same master keys and rules as `settings`; sealing
 * with it keeps its data key and the ciphertext of unchanged values, so
 * re-encrypting an edited plaintext is a minimal diff. Not the default: anyone
 * who ever knew that data key (whoever created the file) can read the new
 * values. Undefined (encrypt afresh) when there is no such file or it does not
 * open with our keys; `options` is only asked for when there is one.
 */
export async function openForKeyReuse(path: string, format: FormatName, settings: EncryptSettings, options: () => OpenFileOptions): Promise<OpenedFile | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    const existing = (await loadFormat(format)).parse(readFileSync(path), { file: path });
    if (!existing.metadata) return undefined;
    const opened = await OpenedFile.open(existing, { ...options(), keepIvs: true });
    const metadata = opened.metadata;
    const same = JSON.stringify(identities(metadata.keyGroups)) === JSON.stringify(settings.keyGroups.map((g) => g.map(keyIdentity).sort()));
    const sameRules = JSON.stringify(metadata.rule ?? null) === JSON.stringify(settings.rule ?? metadata.rule ?? null) && metadata.macOnlyEncrypted === Boolean(settings.macOnlyEncrypted);
    if (same && sameRules) return opened;
    opened.dispose();
  } catch {
    // Not readable with our keys: encrypt afresh.
  }
  return undefined;
}

function identities(groups: KeyRecord[][]): string[][] {
  return groups.map((g) => g.map(keyIdentity).sort());
}
