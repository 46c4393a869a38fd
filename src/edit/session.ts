import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { OutputError, TsopsError } from '../errors.js';
import { loadFormat, type EmitOptions } from '../formats/format.js';
import { readStore } from '../formats/detect.js';
import { storeNamed } from '../formats/registry.js';
import type { KeyOptions, MasterKeyType } from '../keys/masterkey.js';
import { checkWritable, writeFileAtomic } from '../io/atomic-write.js';
import { runEditor } from '../io/editor.js';
import { createPrivateDir, OWNER_RECORD } from '../io/private-dir.js';
import { encryptDocument, type EncryptSettings } from '../sops/index.js';
import { OpenedFile } from '../sops/opened-file.js';
import { readMetadata, writeMetadata } from '../sops/metadata.js';
import type { FormatName, ParsedFile } from '../tree.js';

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

class ConcurrentChangeError extends TsopsError {
  constructor(file: string, savedTo: string) {
    super(`${file} changed on disk while it was being edited; it was left as it is and your edit was saved, encrypted, to ${savedTo}`);
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
  // A file that cannot be written is reported before the user spends time in the editor.
  await checkWritable(req.file);
  const original = existsSync(req.file) ? readFileSync(req.file) : undefined;
  const read = original ? await readStore(original, req.format, { file: req.file, needMetadata: true }) : undefined;
  if (read) format = read.format;
  using opened = read ? await OpenedFile.open(read.parsed, { keepIvs: true, ignoreMac: req.ignoreMac, keys: req.keys, decryptionOrder: req.decryptionOrder }) : undefined;
  let plaintext: Buffer;
  if (opened) {
    for (const w of opened.file.warnings ?? []) req.warn(w);
    if (req.showMasterKeys) opened.file.metadata = writeMetadata(opened.metadata);
    plaintext = Buffer.from(format.emit(opened.file, req.emit));
  } else {
    plaintext = Buffer.from(storeNamed(req.format).newFileTemplate, 'utf8');
  }

  const dir = createPrivateDir('tsops-edit-', req.env);
  // The file's own name, so the editor picks its syntax; the dir's owner record has its name taken.
  const name = basename(req.file);
  const tempFile = join(dir.path, name === OWNER_RECORD ? `edit-${name}` : name);
  try {
    writeFileSync(tempFile, plaintext, { mode: 0o600, flag: 'wx' });
    plaintext.fill(0);
    const before = digest(readFileSync(tempFile));
    const shown = opened && req.showMasterKeys ? metadataDigest(writeMetadata(opened.metadata)) : undefined;
    const edited = await editUntilValid(req, format, tempFile, before, shown);
    if (!edited) return { kind: 'unchanged' };

    if (opened) {
      opened.reseal(edited);
    } else {
      await encryptDocument(edited, await req.newFileSettings(), req.keys);
    }
    const output = format.emit(edited, req.emit);
    const current = existsSync(req.file) ? readFileSync(req.file) : undefined;
    if (!sameBytes(current, original)) throw new ConcurrentChangeError(req.file, await saveElsewhere(req, output));
    try {
      await writeFileAtomic(req.file, output);
    } catch (e) {
      if (!(e instanceof OutputError)) throw e;
      throw new OutputError(`${e.message}; your edit was saved, encrypted, to ${await saveElsewhere(req, output)}`, { file: req.file });
    }
    return { kind: 'written' };
  } finally {
    dir.remove();
  }
}

async function editUntilValid(req: EditRequest, format: Awaited<ReturnType<typeof loadFormat>>, tempFile: string, before: string, shown: string | undefined): Promise<ParsedFile | undefined> {
  for (;;) {
    const status = await runEditor(req.editor, tempFile, req.env);
    if (status !== 0) throw new TsopsError(`the editor exited with status ${status}; ${req.file} was not changed`);
    const text = readFileSync(tempFile);
    if (digest(text) === before) return undefined;
    const problem = checkEdited(req, format, text, shown);
    text.fill(0);
    if (typeof problem !== 'string') return problem;
    if (!(await req.askReopen(problem))) throw new TsopsError(`edit abandoned: ${problem}; ${req.file} was not changed`);
  }
}

/**
 * The parsed edit, or why it cannot be saved. With --show-master-keys the
 * metadata is shown but is not editable: a changed key list or setting would
 * need the data key re-wrapped or the values re-encrypted, which updatekeys,
 * rotate and the creation rules do safely, so a changed `sops` block is
 * refused (and the editor re-opened) rather than silently dropped.
 */
function checkEdited(req: EditRequest, format: Awaited<ReturnType<typeof loadFormat>>, text: Buffer, shown: string | undefined): ParsedFile | string {
  let parsed: ParsedFile;
  try {
    parsed = format.parse(text, { file: basename(req.file) });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (parsed.metadata) {
    if (!req.showMasterKeys) return "the file must not contain a top-level 'sops' key";
    let edited: string;
    try {
      edited = metadataDigest(parsed.metadata);
    } catch (e) {
      return `the sops metadata is not valid: ${(e as Error).message}`;
    }
    if (shown !== undefined && edited !== shown) {
      return "the 'sops' metadata was changed, which edit cannot apply: put it back as it was (change keys with updatekeys or rotate --add-*/--rm-*)";
    }
    parsed.metadata = undefined;
  }
  if (parsed.documents.length === 0) return 'the file has no document';
  return parsed;
}

/** The metadata's meaning, whatever the layout, quoting or comments the editor left. */
function metadataDigest(node: NonNullable<ParsedFile['metadata']>): string {
  const normal = writeMetadata(readMetadata(node));
  return digest(Buffer.from(JSON.stringify(normal, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)), 'utf8'));
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  if (!a || !b) return a === b;
  return a.equals(b);
}

/**
 * Keeps an edit that cannot go to its file: the encrypted result (never the
 * plaintext) beside the file, else in the working directory, else in the home
 * directory. Returns where it went.
 */
async function saveElsewhere(req: EditRequest, output: Uint8Array): Promise<string> {
  const ext = extname(req.file);
  const stem = basename(req.file, ext);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const name = `${stem}.conflict-${stamp}${ext}`;
  const places = [dirname(req.file), process.cwd(), req.env['HOME']].filter((d): d is string => Boolean(d));
  let last: unknown;
  for (const dir of places) {
    try {
      const path = join(dir, name);
      await writeFileAtomic(path, output);
      return path;
    } catch (e) {
      last = e;
    }
  }
  throw new OutputError(`your edit could not be saved anywhere either (${(last as Error).message}); ${req.file} was not changed`, { file: req.file });
}
