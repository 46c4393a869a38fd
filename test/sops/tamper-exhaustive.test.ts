/**
 * Exhaustive tampering: every byte of a small encrypted file of each store is
 * changed, one at a time, and the file is decrypted in-process (the walk the
 * CLI and the library share). Then structural edits: swapped values, reordered
 * items, renamed keys, removed and added leaves, retyped values, and values
 * taken from another file encrypted with the same data key.
 *
 * Each case ends in one of:
 * - an error (a TsopsError): fine;
 * - the same typed plaintext tree, acceptable only when the change provably
 *   cannot matter, which is one of three classes:
 *     syntax:   the tampered file parses to exactly the same tree and metadata
 *               (whitespace after the JSON object, an equivalent line break);
 *     metadata: the documents parse the same, and every metadata input that
 *               decryption consumes is unchanged: the wrapped keys' `enc` and
 *               type, lastmodified, the MAC, mac_only_encrypted, the Shamir
 *               threshold, and the encrypt/plaintext decision of every leaf.
 *               What may differ is a label (`version`, an age `recipient`),
 *               a renamed or unknown field whose default equals what was
 *               stored, a split-off key record with no `enc` (it opens
 *               nothing), or a rule value that decides every leaf the same way;
 *     MAC type: as metadata, except for the type tag of the MAC's ENC string
 *               (or text after its `]`, which the grammar ignores). tsops
 *               reads only the MAC's data, iv and tag; sops would reject an
 *               unknown type there. Nothing authenticates that tag, so this
 *               is leniency, not a weaker check;
 * - a different plaintext without an error. This is a failure unless the only
 *   differences are in what the sops format leaves outside the MAC and the
 *   AEAD additional data (docs/format.md#type-tags, #additional-data, #mac: keys, tags and separators are
 *   not fed): the name of a key whose value is stored in plaintext, a null or
 *   empty value (or empty map or list), or a type tag whose value has the
 *   same plaintext bytes. Those are counted as format-limited and reported,
 *   never silently accepted.
 *
 * Unencrypted values themselves are in the MAC (docs/format.md#mac), so changing one must
 * fail like any other value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsopsError } from '../../src/errors.js';
import { loadFormat } from '../../src/formats/format.js';
import { parseSealed } from '../../src/sops/cipher.js';
import { OpenedFile } from '../../src/sops/opened-file.js';
import { readMetadata } from '../../src/sops/metadata.js';
import { decryptBytes } from '../../src/sops/open.js';
import { DEFAULT_RULE, EncryptionPolicy } from '../../src/sops/rules.js';
import { plaintextBytes } from '../../src/values.js';
import { cloneNode, type Comment, type FormatName, type ListNode, type MapNode, type Node, type ParsedFile, type Scalar } from '../../src/tree.js';
import { encryptText, throwawayAgeKey } from '../support/pipeline.js';

const samples: Record<FormatName, string | Buffer> = {
  yaml: 'db:\n    password: hunter2\n    port: 5432\nlist:\n    - one\n    - true\nnote_unencrypted: visible\ntag_unencrypted: blue\n',
  json: '{\n  "db": {"password": "hunter2", "port": 5432},\n  "list": ["one", true],\n  "note_unencrypted": "visible",\n  "tag_unencrypted": "blue"\n}\n',
  dotenv: 'PASSWORD=hunter2\nPORT=5432\nNOTE_unencrypted=visible\nTAG_unencrypted=blue\n',
  ini: '[db]\npassword = hunter2\nport = 5432\n[misc]\nnote_unencrypted = visible\n',
  binary: Buffer.from([0x62, 0x69, 0x6e, 0x00, 0xff, 0x0a, 0xc3, 0x28, 0x7a]),
};
const FORMATS = Object.keys(samples) as FormatName[];
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// Decryptions run interleaved: part of each one (HKDF, file reads) waits on libuv.
const CONCURRENCY = 16;

type Verdict =
  | { kind: 'error' }
  | { kind: 'crash'; message: string }
  | { kind: 'harmless'; why: 'syntax' | 'metadata' | 'macType' }
  | { kind: 'unexplained-same'; detail: string }
  | { kind: 'format-limited'; why: string }
  | { kind: 'silent'; detail: string };

interface Tally {
  tried: number;
  loud: number;
  syntax: number;
  metadata: number;
  macType: number;
  formatLimited: Record<string, number>;
  silent: string[];
  unexplainedSame: string[];
  crashes: string[];
}

const newTally = (): Tally => ({ tried: 0, loud: 0, syntax: 0, metadata: 0, macType: 0, formatLimited: {}, silent: [], unexplainedSame: [], crashes: [] });
const totals = newTally();

function add(t: Tally, v: Verdict, label: string): void {
  for (const tally of [t, totals]) {
    tally.tried++;
    switch (v.kind) {
      case 'error': tally.loud++; break;
      case 'crash': tally.crashes.push(`${label}: ${v.message}`); break;
      case 'harmless': tally[v.why]++; break;
      case 'unexplained-same': tally.unexplainedSame.push(`${label}: ${v.detail}`); break;
      case 'format-limited': tally.formatLimited[v.why] = (tally.formatLimited[v.why] ?? 0) + 1; break;
      case 'silent': tally.silent.push(`${label}: ${v.detail}`); break;
    }
  }
}

function describeTally(t: Tally): string {
  const limited = Object.entries(t.formatLimited).map(([k, n]) => `${n} ${k}`).join(', ') || '0';
  return `${t.tried} cases tried, ${t.loud} failed loudly, ${t.syntax + t.metadata + t.macType} harmless (${t.syntax} syntax-only, ${t.metadata} metadata without effect, ${t.macType} MAC type tag), format-limited: ${limited}, ${t.unexplainedSame.length} unexplained same-plaintext, ${t.crashes.length} crashes, ${t.silent.length} silent wrong plaintexts`;
}

/** A typed, ordered rendering of a tree: key order, duplicates, types and comments all count. */
function render(node: Node | Comment): unknown {
  switch (node.kind) {
    case 'comment': return ['#', node.text];
    case 'scalar': return [node.type, node.value instanceof Uint8Array ? `hex:${Buffer.from(node.value).toString('hex')}` : String(node.value)];
    case 'list': return ['list', node.items.map(render)];
    case 'map': return ['map', node.items.map((i) => (i.kind === 'entry' ? [i.key, render(i.value)] : render(i)))];
  }
}
const renderDocs = (docs: MapNode[]): string => JSON.stringify(docs.map(render));

function isEncString(node: Node): boolean {
  return node.kind === 'scalar' && typeof node.value === 'string' && node.value.startsWith('ENC[');
}

function holdsEncrypted(node: Node): boolean {
  if (node.kind === 'scalar') return isEncString(node);
  return node.items.some((i) => i.kind !== 'comment' && holdsEncrypted(i.kind === 'entry' ? i.value : i));
}

/** Every leaf with its sops path (map keys only, docs/format.md#additional-data). */
function leaves(docs: MapNode[]): { path: string[]; node: Scalar }[] {
  const out: { path: string[]; node: Scalar }[] = [];
  const visit = (node: Node, path: string[]): void => {
    if (node.kind === 'scalar') out.push({ path, node });
    else for (const item of node.items) if (item.kind !== 'comment') visit(item.kind === 'entry' ? item.value : item, item.kind === 'entry' ? [...path, item.key] : path);
  };
  for (const d of docs) visit(d, []);
  return out;
}

/**
 * The fields of a master key record that unwrapping reads. An age stanza
 * authenticates itself; the recipient only labels it (and names it in errors).
 */
const KEY_INPUTS: Record<string, string[]> = { age: ['enc'], pgp: ['enc', 'fp'], kms: ['enc', 'arn', 'role', 'context', 'aws_profile'] };

/** The parts of an ENC string that decryption reads (the grammar ignores text after the final `]`). */
function sealedInputs(text: string, withType: boolean): string {
  const sealed = parseSealed(text);
  if (!sealed) return `unparsed:${text}`;
  return [sealed.data, sealed.iv, sealed.tag].map((b) => b.toString('hex')).join(',') + (withType ? `,${sealed.type}` : '');
}

/**
 * What decryption consumes from the metadata; labels left out (see the
 * header). A key record without `enc` opens nothing, so it does not count.
 * `withMacType: false` leaves out the MAC's type tag, which tsops does not read.
 */
function effectiveMetadata(parsed: ParsedFile, withMacType = true): string {
  const m = readMetadata(parsed.metadata!);
  const policy = new EncryptionPolicy(m.rule ?? DEFAULT_RULE);
  return JSON.stringify({
    groups: m.keyGroups.map((g) => g.filter((r) => r.fields['enc'] !== undefined).map((r) => ({ type: r.type, fields: Object.fromEntries(Object.entries(r.fields).filter(([k]) => (KEY_INPUTS[r.type] ?? [k]).includes(k))) }))),
    lastModified: m.lastModified,
    mac: sealedInputs(m.mac, withMacType),
    macOnlyEncrypted: m.macOnlyEncrypted,
    shamirThreshold: m.shamirThreshold ?? null,
    decisions: leaves(parsed.documents).map((l) => policy.shouldEncrypt(l.path, [])),
  });
}

/**
 * The decrypted tree with what the sops format does not authenticate blanked
 * out: `keys` blanks names of keys whose subtree was stored in plaintext,
 * `empty` drops null and empty values (empty maps and lists too: no MAC input),
 * `types` keeps plaintext bytes only.
 */
function normalize(decrypted: Node, stored: Node, blank: { keys: boolean; empty: boolean; types: boolean }): unknown {
  switch (decrypted.kind) {
    case 'scalar': {
      const empty = decrypted.type === 'null' || decrypted.value === '' || (decrypted.value instanceof Uint8Array && decrypted.value.length === 0);
      if (blank.empty && empty) return undefined;
      return blank.types ? Buffer.from(plaintextBytes(decrypted)).toString('hex') : render(decrypted);
    }
    case 'list': {
      const s = stored as ListNode;
      const out = decrypted.items.map((item, i) => (item.kind === 'comment' ? render(item) : normalize(item, s.items[i] as Node, blank))).filter((x) => x !== undefined);
      return blank.empty && out.length === 0 ? undefined : ['list', out];
    }
    case 'map': {
      const s = stored as MapNode;
      const out = decrypted.items
        .map((item, i) => {
          if (item.kind === 'comment') return render(item);
          const storedItem = s.items[i]!;
          const storedValue = storedItem.kind === 'entry' ? storedItem.value : (storedItem as unknown as Node);
          const value = normalize(item.value, storedValue, blank);
          return value === undefined ? undefined : [blank.keys && !holdsEncrypted(storedValue) ? '*' : item.key, value];
        })
        .filter((x) => x !== undefined);
      return blank.empty && out.length === 0 ? undefined : ['map', out];
    }
  }
}

interface Original {
  format: FormatName;
  enc: Buffer;
  parsed: ParsedFile;
  rawMetadata: string;
  effective: string;
  decrypted: ParsedFile;
  rendered: string;
}

let key: { identity: string; recipient: string };
const originals = new Map<FormatName, Original>();

async function open(format: FormatName, bytes: Uint8Array): Promise<ParsedFile> {
  return decryptBytes(bytes, format, undefined, { keys: { env: {}, identities: { age: [key.identity] } } });
}

async function parse(format: FormatName, bytes: Uint8Array): Promise<ParsedFile> {
  return (await loadFormat(format)).parse(bytes);
}

async function prepare(format: FormatName): Promise<Original> {
  const enc = Buffer.from(await encryptText(format, samples[format], key.recipient));
  const parsed = await parse(format, enc);
  const decrypted = await open(format, enc);
  return { format, enc, parsed, rawMetadata: renderDocs([parsed.metadata!]), effective: effectiveMetadata(parsed), decrypted, rendered: renderDocs(decrypted.documents) };
}

/** Decrypts a tampered file and classifies the outcome against the original. */
async function judge(o: Original, bytes: Uint8Array): Promise<Verdict> {
  let decrypted: ParsedFile;
  try {
    decrypted = await open(o.format, bytes);
  } catch (e) {
    if (e instanceof TsopsError) return { kind: 'error' };
    return { kind: 'crash', message: `${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 200)}` };
  }
  const stored = await parse(o.format, bytes);
  const rendered = renderDocs(decrypted.documents);
  if (rendered === o.rendered) {
    if (renderDocs(stored.documents) !== renderDocs(o.parsed.documents)) return { kind: 'unexplained-same', detail: 'the stored documents differ' };
    if (renderDocs([stored.metadata!]) === o.rawMetadata) return { kind: 'harmless', why: 'syntax' };
    if (effectiveMetadata(stored) === o.effective) return { kind: 'harmless', why: 'metadata' };
    if (effectiveMetadata(stored, false) === effectiveMetadata(o.parsed, false)) return { kind: 'harmless', why: 'macType' };
    return { kind: 'unexplained-same', detail: `metadata that decryption uses changed: ${effectiveMetadata(stored)}` };
  }
  const same = (blank: { keys: boolean; empty: boolean; types: boolean }): boolean =>
    decrypted.documents.length === o.decrypted.documents.length &&
    JSON.stringify(decrypted.documents.map((d, i) => normalize(d, stored.documents[i]!, blank))) === JSON.stringify(o.decrypted.documents.map((d, i) => normalize(d, o.parsed.documents[i]!, blank)));
  if (!same({ keys: true, empty: true, types: true })) return { kind: 'silent', detail: rendered.slice(0, 400) };
  const why = [
    !same({ keys: false, empty: true, types: true }) ? 'renamed key of a plaintext value' : '',
    !same({ keys: true, empty: false, types: true }) ? 'added/removed null or empty value' : '',
    !same({ keys: true, empty: true, types: false }) ? 'type tag changed, same plaintext bytes' : '',
  ].filter(Boolean);
  return { kind: 'format-limited', why: why.join(' + ') || 'combination' };
}

async function pool<T>(items: T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await run(items[next++]!);
  }));
}

function report(t: Tally): void {
  expect(t.crashes.slice(0, 5)).toEqual([]);
  expect(t.unexplainedSame.slice(0, 5)).toEqual([]);
  expect(t.silent.slice(0, 5)).toEqual([]);
}

beforeAll(async () => {
  key = await throwawayAgeKey();
  for (const f of FORMATS) originals.set(f, await prepare(f));
});

afterAll(() => {
  console.log(`hardening: tamper-exhaustive total: ${describeTally(totals)}`);
});

describe.each(FORMATS)('%s', (format) => {
  it('every byte changed (XOR 0x01), and every base64 character of every ENC data/iv/tag replaced: never a silent wrong plaintext', async () => {
    const o = originals.get(format)!;
    const t = newTally();
    const cases: { label: string; bytes: Buffer }[] = [];
    for (let i = 0; i < o.enc.length; i++) {
      const bytes = Buffer.from(o.enc);
      bytes[i] = bytes[i]! ^ 0x01;
      cases.push({ label: `byte ${i} ^ 0x01 (${JSON.stringify(o.enc.subarray(Math.max(0, i - 24), i + 8).toString('latin1'))})`, bytes });
    }
    const text = o.enc.toString('latin1');
    let encFields = 0;
    for (const m of text.matchAll(/ENC\[AES256_GCM,data:([^,]*),iv:([^,]*),tag:([^,\]]*),type:/dg)) {
      for (const field of [1, 2, 3]) {
        const [start, end] = m.indices![field]!;
        encFields++;
        for (let p = start; p < end; p++) {
          const at = B64.indexOf(text[p]!);
          if (at < 0) continue; // '=' padding: covered by the XOR pass
          const bytes = Buffer.from(o.enc);
          // +32 flips the top bit of the 6-bit group, so it never repeats the XOR pass's change.
          bytes[p] = B64.charCodeAt((at + 32) % 64);
          cases.push({ label: `base64 at ${p} ${text[p]}->${B64[(at + 32) % 64]}`, bytes });
        }
      }
    }
    // Every value plus the MAC, each with data, iv and tag.
    expect(encFields).toBe(3 * (leaves(o.parsed.documents).filter((l) => isEncString(l.node)).length + 1));
    await pool(cases, async (c) => add(t, await judge(o, c.bytes), c.label));
    console.log(`hardening: tamper-exhaustive ${format} bytes (${o.enc.length} bytes): ${describeTally(t)}`);
    expect(t.tried).toBe(cases.length);
    report(t);
    // Guards against a judge that errs on everything, e.g. a key mix-up: the label classes must show up.
    expect(t.metadata).toBeGreaterThan(0);
  }, 120_000);

  it('structural changes: swaps, reorders, renames, removals, additions, retyped values, values from a file with the same data key', async () => {
    const o = originals.get(format)!;
    const f = await loadFormat(format);
    const t = newTally();
    const cases: { label: string; bytes: Uint8Array; expectError?: boolean }[] = [];
    let baseline: Buffer | undefined;
    /** A copy of the encrypted tree, changed by `change`, written in the format's canonical layout. */
    const variant = (label: string, change: (docs: MapNode[], metadata: MapNode) => void, expectError = true): void => {
      const docs = o.parsed.documents.map((d) => cloneNode(d));
      const metadata = cloneNode(o.parsed.metadata!);
      change(docs, metadata);
      let bytes: Uint8Array;
      try {
        bytes = f.emit({ format, documents: docs, metadata });
      } catch {
        return; // the store cannot hold this shape (nesting in dotenv, INI); nothing to tamper with
      }
      // The store dropped the change (binary writes only `data`): not a tampered file.
      if (baseline?.equals(bytes)) return;
      baseline ??= Buffer.from(bytes);
      cases.push({ label, bytes, expectError });
    };

    // The canonical re-emission itself must be harmless, or every structural verdict below means nothing.
    variant('re-emitted unchanged', () => {}, false);

    const containers = (docs: MapNode[]): (MapNode | ListNode)[] => {
      const out: (MapNode | ListNode)[] = [];
      const visit = (n: Node): void => {
        if (n.kind === 'scalar') return;
        out.push(n);
        for (const i of n.items) if (i.kind !== 'comment') visit(i.kind === 'entry' ? i.value : i);
      };
      docs.forEach(visit);
      return out;
    };
    /** Slots holding a scalar: [container index, item index], in document order. */
    const slots = (docs: MapNode[]): [number, number][] =>
      containers(docs).flatMap((c, ci) => c.items.flatMap((item, ii): [number, number][] => {
        const v = item.kind === 'entry' ? item.value : item;
        return v.kind === 'scalar' ? [[ci, ii]] : [];
      }));
    const getScalar = (docs: MapNode[], [ci, ii]: [number, number]): { set(v: Node): void; get(): Node } => {
      const c = containers(docs)[ci]!;
      const item = c.items[ii]!;
      return item.kind === 'entry' ? { get: () => item.value, set: (v) => (item.value = v) } : { get: () => item as Node, set: (v) => (c.items[ii] = v) };
    };
    const nSlots = slots(o.parsed.documents);

    // Value swaps between every pair of leaves (same AAD for list items, different AAD otherwise).
    for (let a = 0; a < nSlots.length; a++) {
      for (let b = a + 1; b < nSlots.length; b++) {
        variant(`swap leaves ${a} and ${b}`, (docs) => {
          const x = getScalar(docs, nSlots[a]!);
          const y = getScalar(docs, nSlots[b]!);
          const tmp = x.get();
          x.set(y.get());
          y.set(tmp);
        });
      }
    }
    // Reordering: every container reversed, and every adjacent pair of items exchanged.
    containers(o.parsed.documents).forEach((c, ci) => {
      if (c.items.length < 2) return;
      variant(`reverse container ${ci}`, (docs) => containers(docs)[ci]!.items.reverse());
      for (let i = 0; i + 1 < c.items.length; i++) {
        // Moving an empty section (INI's DEFAULT) changes no MAC input: format-limited.
        const movesEmpty = [c.items[i]!, c.items[i + 1]!].some((x) => x.kind === 'entry' && x.value.kind !== 'scalar' && x.value.items.length === 0);
        variant(`exchange items ${i},${i + 1} of container ${ci}`, (docs) => {
          const items = containers(docs)[ci]!.items;
          [items[i], items[i + 1]] = [items[i + 1]!, items[i]!];
        }, !movesEmpty);
      }
    });
    // Renames and removals of every entry; additions in every map.
    containers(o.parsed.documents).forEach((c, ci) => {
      c.items.forEach((item, ii) => {
        if (item.kind !== 'entry') return;
        const plaintextValue = !holdsEncrypted(item.value);
        for (const [how, rename] of [['suffix x', (k: string) => `${k}x`], ['prefix x', (k: string) => `x${k}`], ['case', (k: string) => (k === k.toUpperCase() ? k.toLowerCase() : k.toUpperCase())]] as const) {
          // Renaming a key over plaintext only, keeping its `_unencrypted` ending if it has one, is
          // invisible to sops's MAC (format-limited); dropping the ending makes the value due for encryption.
          const keepsRule = !item.key.endsWith('_unencrypted') || rename(item.key).endsWith('_unencrypted');
          variant(`rename entry ${ii} of container ${ci} (${how})`, (docs) => {
            const e = containers(docs)[ci]!.items[ii]!;
            if (e.kind === 'entry') e.key = rename(e.key);
          }, !(plaintextValue && keepsRule));
        }
        variant(`remove entry ${ii} of container ${ci}`, (docs) => void containers(docs)[ci]!.items.splice(ii, 1));
      });
      if (c.kind === 'map') {
        const firstEnc = c.items.find((i) => i.kind === 'entry' && isEncString(i.value));
        if (firstEnc && firstEnc.kind === 'entry') {
          variant(`add a copy of an encrypted value under a new key in container ${ci}`, (docs) => {
            (containers(docs)[ci] as MapNode).items.push({ kind: 'entry', key: 'added', value: cloneNode(firstEnc.value) });
          });
        }
        variant(`add a plaintext value that should be encrypted in container ${ci}`, (docs) => {
          (containers(docs)[ci] as MapNode).items.push({ kind: 'entry', key: 'added', value: { kind: 'scalar', type: 'str', value: 'plain' } });
        });
        variant(`add an unencrypted value in container ${ci}`, (docs) => {
          (containers(docs)[ci] as MapNode).items.push({ kind: 'entry', key: 'added_unencrypted', value: { kind: 'scalar', type: 'str', value: 'plain' } });
        });
        // Empty and null leaves are neither encrypted nor in the MAC (docs/format.md#type-tags): format-limited.
        variant(`add an empty value in container ${ci}`, (docs) => {
          (containers(docs)[ci] as MapNode).items.push({ kind: 'entry', key: 'added', value: { kind: 'scalar', type: 'str', value: '' } });
        }, false);
      } else {
        variant(`duplicate the first list item in container ${ci}`, (docs) => {
          const items = (containers(docs)[ci] as ListNode).items;
          items.push(cloneNode(items[0]!));
        });
      }
    });
    // Every stored type tag replaced by every other: the tag is authenticated by neither the AEAD nor the MAC.
    nSlots.forEach((slot, si) => {
      const node = getScalar(o.parsed.documents, slot).get() as Scalar;
      if (!isEncString(node)) return;
      for (const type of ['str', 'int', 'float', 'bool', 'time', 'comment', 'bytes', 'nope']) {
        if (String(node.value).endsWith(`type:${type}]`)) continue;
        variant(`retype leaf ${si} as ${type}`, (docs) => {
          const s = getScalar(docs, slot);
          s.set({ kind: 'scalar', type: 'str', value: String(node.value).replace(/type:[a-z]+\]$/, `type:${type}]`) });
        }, false);
      }
    });
    // The MAC and lastmodified: removed, emptied, swapped for a value's ciphertext.
    for (const field of ['mac', 'lastmodified']) {
      variant(`remove metadata ${field}`, (_docs, metadata) => {
        metadata.items = metadata.items.filter((i) => !(i.kind === 'entry' && i.key === field));
      });
    }
    const someEnc = leaves(o.parsed.documents).find((l) => isEncString(l.node));
    variant('a value ciphertext as the MAC', (_docs, metadata) => {
      const m = metadata.items.find((i) => i.kind === 'entry' && i.key === 'mac');
      if (m && m.kind === 'entry') m.value = cloneNode(someEnc!.node);
    });

    // A second file encrypted with the same data key and master keys (what `encrypt --output`
    // over an existing file does): every value differs, so each one is a valid ciphertext under
    // this key at its path, but not this file's value.
    const other = await parse(format, o.enc);
    using openedOther = await OpenedFile.open(other, { keys: { env: {}, identities: { age: [key.identity] } } });
    for (const l of leaves(other.documents)) {
      const v = l.node.value;
      if (v instanceof Uint8Array) l.node.value = Buffer.concat([Buffer.from(v), Buffer.from('-other')]);
      else if (typeof v === 'string') l.node.value = `${v}-other`;
      else if (typeof v === 'bigint') l.node.value = v + 1n;
      else if (typeof v === 'boolean') l.node.value = !v;
    }
    openedOther.reseal();
    expect(readMetadata(other.metadata!).keyGroups).toEqual(readMetadata(o.parsed.metadata!).keyGroups);
    const otherSlots = slots(other.documents);
    expect(otherSlots).toEqual(nSlots);
    nSlots.forEach((slot, si) => {
      variant(`leaf ${si} from the other file`, (docs) => getScalar(docs, slot).set(cloneNode(getScalar(other.documents, slot).get())));
      nSlots.forEach((to, ti) => {
        if (ti !== si) variant(`leaf ${si} of the other file at leaf ${ti}`, (docs) => getScalar(docs, to).set(cloneNode(getScalar(other.documents, slot).get())));
      });
      // With a single leaf that would be the other file itself, a valid file, not a tampered one.
      if (nSlots.length > 1) variant(`leaf ${si} from the other file, with its MAC and lastmodified`, (docs, metadata) => {
        getScalar(docs, slot).set(cloneNode(getScalar(other.documents, slot).get()));
        for (const field of ['mac', 'lastmodified']) {
          const mine = metadata.items.find((i) => i.kind === 'entry' && i.key === field);
          const theirs = other.metadata!.items.find((i) => i.kind === 'entry' && i.key === field);
          if (mine?.kind === 'entry' && theirs?.kind === 'entry') mine.value = cloneNode(theirs.value);
        }
      });
    });
    variant("all of the other file's values under this file's MAC", (docs) => {
      docs.splice(0, docs.length, ...other.documents.map((d) => cloneNode(d)));
    });

    const unexpectedlyAccepted: string[] = [];
    await pool(cases, async (c) => {
      const v = await judge(o, c.bytes);
      add(t, v, c.label);
      if (c.expectError && v.kind !== 'error') unexpectedlyAccepted.push(`${c.label}: ${v.kind}`);
    });
    console.log(`hardening: tamper-exhaustive ${format} structural: ${describeTally(t)}`);
    report(t);
    expect(unexpectedlyAccepted).toEqual([]);
    expect(cases.length).toBeGreaterThan(format === 'binary' ? 10 : 60);
  }, 120_000);
});
