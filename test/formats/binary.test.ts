import { exitCodeOfError } from '../../src/cli/exit-codes.js';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EmitError } from '../../src/errors.js';
import { binaryFormat } from '../../src/formats/binary.js';
import { cloneNode, getEntry, list, map, scalar, str, type MapNode, type ParsedFile, type Scalar } from '../../src/tree.js';
import { verifyOpens } from '../../src/sops/open.js';
import { decryptText, encryptText, parseText, throwawayAgeKey } from '../support/pipeline.js';
import { HAS_INTEROP, INTEROP as INTEROP_DIR } from '../support/interop.js';

const INTEROP = `${INTEROP_DIR}/`;

const dataOf = (file: ParsedFile): Scalar => getEntry(file.documents[0]!, 'data')!.value as Scalar;
const bytes = (...parts: (string | number[])[]): Uint8Array => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('binary parse', () => {
  it('keeps plaintext as raw bytes, non-UTF-8 included', () => {
    const input = bytes([0xff, 0xfe, 0x00, 0xc3, 0x28], 'tail\r\n');
    const file = binaryFormat.parse(input);
    expect(file.format).toBe('binary');
    expect(file.metadata).toBeUndefined();
    expect(file.documents).toHaveLength(1);
    expect(file.documents[0]!.items).toHaveLength(1);
    expect(dataOf(file)).toEqual({ kind: 'scalar', type: 'str', value: new Uint8Array(input) });
    expect(dataOf(file).value).not.toBe(input);
  });

  it('reads an empty file as empty bytes', () => {
    expect(dataOf(binaryFormat.parse(new Uint8Array(0)))).toEqual({ kind: 'scalar', type: 'str', value: new Uint8Array(0) });
  });

  it('treats JSON without a top-level sops object as plaintext', () => {
    for (const text of ['{"data": "x"}', '{"a": {"sops": {}}}', '{"sops": "not an object"}', '{"sops": {', '  {"sops": {}} ', '["sops"]', 'x{"sops": {}}']) {
      const file = binaryFormat.parse(bytes(text));
      const expectEnvelope = text === '  {"sops": {}} ';
      expect(file.metadata !== undefined).toBe(expectEnvelope);
      if (!expectEnvelope) expect(Buffer.from(dataOf(file).value as Uint8Array).toString('utf8')).toBe(text);
    }
  });

  it('recognises the encrypted envelope', () => {
    const file = binaryFormat.parse(bytes('{\n\t"data": "ENC[AES256_GCM,data:AA==,iv:BB==,tag:CC==,type:str]",\n\t"sops": {\n\t\t"mac": "m",\n\t\t"version": "3.13.2"\n\t}\n}\n'));
    expect(cloneNode(dataOf(file))).toEqual({ kind: 'scalar', type: 'str', value: 'ENC[AES256_GCM,data:AA==,iv:BB==,tag:CC==,type:str]' });
    expect(cloneNode(file.metadata!)).toEqual(map([['mac', str('m')], ['version', str('3.13.2')]]));
  });

  it.skipIf(!HAS_INTEROP)('reads the sops-written example.txt', () => {
    const file = binaryFormat.parse(readFileSync(INTEROP + 'sops-repo/example.txt'));
    expect(file.documents[0]!.items.map((i) => (i.kind === 'entry' ? i.key : '#'))).toEqual(['data']);
    expect(dataOf(file)).toMatchObject({ type: 'str', value: expect.stringMatching(/^ENC\[AES256_GCM,data:[^,]+,iv:[^,]+,tag:[^,]+,type:str\]$/) });
    const pgp = getEntry(file.metadata!, 'pgp')!.value;
    expect(pgp.kind).toBe('list');
    const fps = pgp.kind === 'list' ? pgp.items.map((k) => (getEntry(k as MapNode, 'fp')!.value as Scalar).value) : [];
    expect(fps).toEqual(['FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4', 'D7229043384BCC60326C6FB9D8720D957C3D3074']);
    expect(getEntry(file.metadata!, 'mac')!.value).toMatchObject({ value: expect.stringMatching(/^ENC\[/) });
  });
});

describe('binary emit', () => {
  const plainFile = (value: Scalar['value'], type: Scalar['type'] = 'str'): ParsedFile => ({ format: 'binary', documents: [map([['data', scalar(type, value)]])] });

  it('writes plaintext bytes exactly, with nothing added', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (input) => {
      const out = binaryFormat.emit(binaryFormat.parse(input));
      expect(Buffer.from(out).equals(Buffer.from(input))).toBe(true);
    }));
    expect(binaryFormat.emit(plainFile(new Uint8Array(0)))).toHaveLength(0);
  });

  it('writes a string value as UTF-8', () => {
    expect(Buffer.from(binaryFormat.emit(plainFile('héllo\n'))).toString('utf8')).toBe('héllo\n');
    expect(Buffer.from(binaryFormat.emit(plainFile(7n, 'int'))).toString('utf8')).toBe('7');
  });

  it('writes the envelope as canonical JSON: data then sops, tab by default, --indent honoured', () => {
    const file: ParsedFile = { format: 'binary', documents: [map([['data', str('ENC[x]')]])], metadata: map([['mac', str('<m>')]]) };
    expect(Buffer.from(binaryFormat.emit(file)).toString('utf8')).toBe('{\n\t"data": "ENC[x]",\n\t"sops": {\n\t\t"mac": "\\u003cm\\u003e"\n\t}\n}\n');
    expect(Buffer.from(binaryFormat.emit(file, { indent: 4 })).toString('utf8')).toBe('{\n    "data": "ENC[x]",\n    "sops": {\n        "mac": "\\u003cm\\u003e"\n    }\n}\n');
    expect(() => binaryFormat.emit(file, { indent: -2 })).toThrow(EmitError);
  });

  it('writes only data and sops into the envelope, whatever else the document holds', () => {
    const file: ParsedFile = { format: 'yaml', documents: [map([['other', str('x')], ['data', str('ENC[y]')]])], metadata: map([['version', str('3.13.2')]]) };
    expect(Buffer.from(binaryFormat.emit(file)).toString('utf8')).toBe('{\n\t"data": "ENC[y]",\n\t"sops": {\n\t\t"version": "3.13.2"\n\t}\n}\n');
  });

  it('refuses a document without data, and data that is not a single value', () => {
    const noData: ParsedFile = { format: 'yaml', documents: [map([['other', str('x')]])] };
    expect(() => binaryFormat.emit(noData)).toThrow(EmitError);
    expect(() => binaryFormat.emit(noData)).toThrow('binary output needs a single `data` key');
    expect(() => binaryFormat.emit({ format: 'binary', documents: [] })).toThrow(EmitError);
    expect(() => binaryFormat.emit({ ...noData, metadata: map([]) })).toThrow(EmitError);
    expect(() => binaryFormat.emit({ format: 'yaml', documents: [map([['data', list([])]])] })).toThrow(EmitError);
    try {
      binaryFormat.emit(noData);
    } catch (err) {
      expect(exitCodeOfError(err as EmitError)).toBe(4);
    }
  });
});

describe('binary with real encryption', () => {
  let key: { identity: string; recipient: string };
  beforeAll(async () => {
    key = await throwawayAgeKey();
  });

  it('non-UTF-8 bytes survive encrypt + decrypt', async () => {
    const input = bytes('secret ', [0xff, 0x00, 0xc3, 0x28, 0x80], '\n');
    const encrypted = await encryptText('binary', input, key.recipient);
    expect(encrypted).toMatch(/^\{\n\t"data": "ENC\[AES256_GCM,[^"]+,type:str\]",\n\t"sops": \{\n/);
    expect(encrypted).not.toContain('secret');
    const file = await parseText('binary', encrypted);
    await verifyOpens(file, { keys: { env: {}, identities: { age: [key.identity] } } });
    expect(Buffer.from(binaryFormat.emit(file)).equals(Buffer.from(input))).toBe(true);
  });

  it('an empty file encrypts to "data": "" and decrypts to nothing', async () => {
    const encrypted = await encryptText('binary', new Uint8Array(0), key.recipient);
    expect(encrypted).toMatch(/^\{\n\t"data": "",\n/);
    expect(await decryptText('binary', encrypted, key.identity)).toBe('');
  });
});
