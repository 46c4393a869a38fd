import { generateIdentity, identityToRecipient } from 'age-encryption';
import { loadFormat } from '../../src/formats/format.js';
import { encryptDocument, type EncryptSettings } from '../../src/sops/index.js';
import { verifyOpens } from '../../src/sops/open.js';
import type { FormatName, ParsedFile } from '../../src/tree.js';

/** A throwaway age identity made at test time. */
export async function throwawayAgeKey(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export async function parseText(format: FormatName, text: string | Uint8Array): Promise<ParsedFile> {
  const f = await loadFormat(format);
  return f.parse(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
}

export async function emitText(file: ParsedFile, format: FormatName = file.format): Promise<string> {
  return Buffer.from((await loadFormat(format)).emit(file)).toString('utf8');
}

/** plaintext text -> encrypted text, through the same layers the CLI uses. */
export async function encryptText(format: FormatName, plaintext: string | Uint8Array, recipient: string, settings: Partial<EncryptSettings> = {}): Promise<string> {
  const file = await parseText(format, plaintext);
  await encryptDocument(file, { keyGroups: [[{ type: 'age', recipient }]], ...settings }, { env: {} });
  return emitText(file);
}

/** encrypted text -> plaintext text, MAC verified. */
export async function decryptText(format: FormatName, encrypted: string | Uint8Array, identity: string, options: { ignoreMac?: boolean } = {}): Promise<string> {
  const file = await parseText(format, encrypted);
  await verifyOpens(file, { keys: { env: {}, identities: { age: [identity] } }, ...options });
  return emitText(file);
}

/**
 * An encrypted file as sops would have written it: tsops's structure binding
 * (a metadata line in YAML, dotenv and INI, a member in JSON) removed, values
 * and MAC untouched.
 */
export function withoutBinding(encrypted: string): string {
  return encrypted.replace(/,?\s*"tsops_structure": "[^"]*"/, '').replace(/^[ \t]*(sops_)?tsops_structure[ \t]*[=:].*\n/m, '');
}
