import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { TsopsError, ExitCode } from '../errors.js';
import { loadFormat, type EmitOptions } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import type { KeyOptions, MasterKeyType } from '../keys/masterkey.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { runEditor } from '../io/editor.js';
import { createPrivateDir } from '../io/private-dir.js';
import { decryptDocument, encryptDocument, forgetDecrypted, reencryptDocument, type DecryptedDocument, type EncryptSettings } from '../sops/index.js';
import { readMetadata, writeMetadata } from '../sops/metadata.js';
import type { FormatName, ParsedFile } from '../tree.js';
import { newFileTemplate } from './templates.js';

export interface EditRequest {
  file: string;
  format: FormatName;
  editor: string[];
  env: NodeJS.ProcessEnv;
  keys: KeyOptions;
  ignoreMac?: boolean;
  showMasterKeys?: boolean;
  decryptionOrder?: MasterKeyType[];
  emit?: EmitOptions;
  /** Keys for a file that does not exist yet (the config's creation rule, or flags). */
  newFileSettings: () => Promise<EncryptSettings>;
  /** The edited text does not parse: show why and ask whether to re-open the editor. */
  askReopen: (problem: string) => Promise<boolean>;
  warn: (line: string) => void;
}

export type EditOutcome = { kind: 'unchanged' } | { kind: 'written' };

export class ConcurrentChangeError extends TsopsError {
  constructor(file: string, savedTo: string) {
    super(`${file} changed on disk while it was being edited; it was left as it is and your edit was saved, encrypted, to ${savedTo}`, ExitCode.Generic);
  }
}

/**
 * The edit loop: decrypt into a private temp file, run the editor, parse and
 * re-encrypt what it saved. Unchanged values keep their exact ciphertext, an
 * unchanged file is not written at all, and a file changed behind our back is
 * never overwritten.
 */
export async function editFile(req: EditRequest): Promise<EditOutcome> {
  let format = await loadFormat(req.format);
  const original = existsSync(req.file) ? readFileSync(req.file) : undefined;
  let decrypted: DecryptedDocument | undefined;
  let plaintext: Buffer;
  if (original) {
    let parsed;
    ({ format, parsed } = await readStore(original, req.format, { file: req.file, needMetadata: true }));
    decrypted = await decryptDocument(parsed, { forReencryption: true, ignoreMac: req.ignoreMac, keys: req.keys, decryptionOrder: req.decryptionOrder });
    for (const w of parsed.warnings ?? []) req.warn(w);
    if (req.showMasterKeys) parsed.metadata = writeMetadata(decrypted.metadata);
    plaintext = Buffer.from(format.emit(parsed, req.emit));
  } else {
    plaintext = Buffer.from(newFileTemplate(req.format), 'utf8');
  }

  const dir = createPrivateDir('tsops-edit-', req.env);
  const tempFile = join(dir.path, basename(req.file));
  try {
    writeFileSync(tempFile, plaintext, { mode: 0o600, flag: 'wx' });
    plaintext.fill(0);
    const before = digest(readFileSync(tempFile));
    const edited = await editUntilValid(req, format, tempFile, before);
    if (!edited) return { kind: 'unchanged' };

    if (decrypted) {
      reencryptDocument(edited, decrypted);
    } else {
      await encryptDocument(edited, await req.newFileSettings(), req.keys);
    }
    const output = format.emit(edited, req.emit);
    const current = existsSync(req.file) ? readFileSync(req.file) : undefined;
    if (!sameBytes(current, original)) {
      const savedTo = conflictPath(req.file);
      await writeFileAtomic(savedTo, output);
      throw new ConcurrentChangeError(req.file, savedTo);
    }
    await writeFileAtomic(req.file, output);
    return { kind: 'written' };
  } finally {
    dir.remove();
    if (decrypted) forgetDecrypted(decrypted);
  }
}

async function editUntilValid(req: EditRequest, format: Awaited<ReturnType<typeof loadFormat>>, tempFile: string, before: string): Promise<ParsedFile | undefined> {
  for (;;) {
    const status = await runEditor(req.editor, tempFile, req.env);
    if (status !== 0) throw new TsopsError(`the editor exited with status ${status}; ${req.file} was not changed`, ExitCode.Generic);
    const text = readFileSync(tempFile);
    if (digest(text) === before) return undefined;
    const problem = checkEdited(req, format, text);
    text.fill(0);
    if (typeof problem !== 'string') return problem;
    if (!(await req.askReopen(problem))) throw new TsopsError(`edit abandoned: ${problem}; ${req.file} was not changed`, ExitCode.Generic);
  }
}

/** The parsed edit, or why it cannot be saved. */
function checkEdited(req: EditRequest, format: Awaited<ReturnType<typeof loadFormat>>, text: Buffer): ParsedFile | string {
  let parsed: ParsedFile;
  try {
    parsed = format.parse(text, { file: basename(req.file) });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (parsed.metadata) {
    if (!req.showMasterKeys) return "the file must not contain a top-level 'sops' key";
    try {
      readMetadata(parsed.metadata);
    } catch (e) {
      return `the sops metadata is not valid: ${(e as Error).message}`;
    }
    // The master keys are changed with rotate/updatekeys, where the data key is handled safely.
    parsed.metadata = undefined;
  }
  if (parsed.documents.length === 0) return 'the file has no document';
  return parsed;
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  if (!a || !b) return a === b;
  return a.equals(b);
}

function conflictPath(file: string): string {
  const ext = extname(file);
  const stem = basename(file, ext);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return join(dirname(file), `${stem}.conflict-${stamp}${ext}`);
}
