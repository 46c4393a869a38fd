import { aboutFile, TsopsError, UsageError } from '../../errors.js';
import { emitAs, loadFormat } from '../../formats/format.js';
import { storeNamed } from '../../formats/registry.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { readInput } from '../../io/input.js';
import { recordAudit } from '../../audit/index.js';
import { decryptBytes } from '../../sops/open.js';
import { formatPath, getAtPath } from '../../sops/tree-edit.js';
import { parseTreePath } from '../../sops/treepath.js';
import type { MasterKeyType } from '../../keys/masterkey.js';
import type { FormatName, Node, ParsedFile } from '../../tree.js';
import { logTo, warn, writeOut, type CliContext } from '../context.js';
import { decryptionOrder, indentOf, inputFormat, keyOptions, outputFormat, type CommonFlags } from '../options.js';

export interface DecryptFlags extends CommonFlags {
  inPlace?: boolean;
  output?: string;
  extract?: string;
  check?: boolean;
  recursive?: boolean;
  jobs?: string;
}

/** Reads and decrypts an encrypted file (stdin for `-` or none); a file that does not parse is sops's exit 1, not 2. */
export async function openEncrypted(file: string | undefined, flags: CommonFlags, ctx: CliContext): Promise<{ parsed: ParsedFile; name: string; format: FormatName }> {
  const name = file === undefined || file === '-' ? (flags.filenameOverride ?? 'stdin') : file;
  const format = inputFormat(flags, file);
  const keys = { ...keyOptions(flags, ctx.env, logTo(ctx)), unwrappedBy: [] as string[] };
  const parsed = await decryptBytes(await readInput(file), format, name, {
    ignoreMac: Boolean(flags.ignoreMac),
    exactFormat: Boolean(flags.inputType),
    ...orderOption(decryptionOrder(flags, ctx.env)),
    keys,
  });
  await recordAudit(ctx, 'decrypt', name, keys.unwrappedBy);
  for (const w of parsed.warnings ?? []) warn(ctx, w);
  // The store the content was read as (see readStore), which output follows by default.
  return { parsed, name, format: parsed.format };
}

function orderOption(order: MasterKeyType[] | undefined): { decryptionOrder?: MasterKeyType[] } {
  return order ? { decryptionOrder: order } : {};
}

export async function decryptCommand(file: string | undefined, flags: DecryptFlags, ctx: CliContext): Promise<number> {
  if (flags.check || flags.recursive) return (await import('./decrypt-check.js')).checkCommand(file, flags, ctx);
  if (flags.outputType === 'github-env') return (await import('./github-env.js')).githubEnvCommand(file, flags, ctx);
  const stdin = file === undefined || file === '-';
  if (flags.inPlace && flags.output) throw new UsageError('--in-place and --output cannot be used together');
  if (flags.inPlace && stdin) throw new UsageError('--in-place needs a file, not standard input');
  const path = flags.extract === undefined ? undefined : parseTreePath(flags.extract);
  const { parsed, name, format } = await openEncrypted(file, flags, ctx);
  const outFormat = outputFormat(flags, format);
  const indent = indentOf(flags);
  let output: Uint8Array;
  if (path) {
    const node = parsed.documents[0] && getAtPath(parsed.documents[0], path);
    if (!node) throw new TsopsError(`key not found: ${formatPath(path)}`, 'failed', { file: name });
    output = await aboutFile(name, () => extracted(node, outFormat, indent));
  } else {
    output = await emitAs(parsed, outFormat, indent, name);
  }
  const target = flags.inPlace ? file : flags.output;
  if (target) await writeFileAtomic(target, output, flags.inPlace ? {} : { mode: 0o600 });
  else await writeOut(ctx, output);
  return 0;
}

/** `--extract`: a string raw with no newline, a map as a file of the output type, anything else as that type writes a value. */
async function extracted(node: Node, format: FormatName, indent: number | undefined): Promise<Uint8Array> {
  if (node.kind === 'scalar' && node.type === 'str') return node.value instanceof Uint8Array ? node.value : Buffer.from(String(node.value), 'utf8');
  if (node.kind === 'map') return (await loadFormat(format)).emit({ format, documents: [node] }, { indent });
  return storeNamed(format).writeValue(node, indent);
}
