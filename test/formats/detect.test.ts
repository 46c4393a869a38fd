import { beforeAll, describe, expect, it } from 'vitest';
import { InputError, MalformedFileError } from '../../src/errors.js';
import { readStore } from '../../src/formats/detect.js';
import type { FormatName } from '../../src/tree.js';
import { encryptText, throwawayAgeKey } from '../support/pipeline.js';

const SECRET = 'hunter2-SECRET';
const enc: Partial<Record<FormatName, string>> = {};
beforeAll(async () => {
  const { recipient } = await throwawayAgeKey();
  enc.yaml = await encryptText('yaml', `a: ${SECRET}\n`, recipient);
  enc.json = await encryptText('json', `{"a": "${SECRET}"}\n`, recipient);
  enc.dotenv = await encryptText('dotenv', `a=${SECRET}\n`, recipient);
  enc.ini = await encryptText('ini', `[x]\na = ${SECRET}\n`, recipient);
  enc.binary = await encryptText('binary', `a=${SECRET}\n`, recipient);
});

const buf = (text: string): Uint8Array => Buffer.from(text, 'utf8');

describe('readStore', () => {
  it('reads each encrypted store under every other name as what it is, and says so through note', async () => {
    for (const actual of ['yaml', 'json', 'dotenv', 'ini', 'binary'] as const) {
      for (const named of ['yaml', 'json', 'dotenv', 'ini', 'binary'] as const) {
        const notes: string[] = [];
        const { format, parsed } = await readStore(buf(enc[actual]!), named, { file: 'f', needMetadata: true, note: (l) => notes.push(l) });
        expect(parsed.metadata).toBeDefined();
        // A JSON or binary envelope named .yaml reads as YAML (JSON is YAML) unless the YAML reader refuses its
        // layout; a binary envelope named .json is a JSON file holding `data`.
        const expected = named === 'yaml' && (actual === 'json' || actual === 'binary') ? format.name : named === 'json' && actual === 'binary' ? 'json' : actual;
        expect({ actual, named, store: format.name }).toEqual({ actual, named, store: expected });
        expect(parsed.format).toBe(format.name);
        expect(notes).toHaveLength(format.name === named ? 0 : 1);
        if (format.name !== named) expect(notes[0]).toBe(`f: read as the ${format.name} store (its content), not ${named} (its name)`);
      }
    }
  });

  it('keeps the named store when it reads, even without metadata unless metadata is needed', async () => {
    const plain = buf(enc.yaml!);
    const asBinary = await readStore(plain, 'binary');
    expect(asBinary.format.name).toBe('binary');
    expect(asBinary.parsed.metadata).toBeUndefined();
    expect((await readStore(plain, 'binary', { needMetadata: true })).format.name).toBe('yaml');
  });

  it('a file that is no store keeps the named store\'s error, or its metadata-less reading', async () => {
    // Where an encrypted file is expected, one that parses as no store is malformed (exit 1); plaintext reads keep exit 2.
    await expect(readStore(buf(`${SECRET} = {\n`), 'json', { file: 'f', needMetadata: true })).rejects.toThrow(MalformedFileError);
    await expect(readStore(buf(`${SECRET} = {\n`), 'json', { file: 'f' })).rejects.toThrow(InputError);
    await expect(readStore(buf(`{"a": 1}\n`), 'dotenv', { file: 'f', needMetadata: true })).rejects.toThrow(/invalid dotenv at line 1/);
    const r = await readStore(buf(`plain ${SECRET}\n`), 'binary', { needMetadata: true });
    expect(r.format.name).toBe('binary');
    expect(r.parsed.metadata).toBeUndefined();
  });

  it('plaintext that only mentions another store\'s metadata stays what its name says', async () => {
    const r = await readStore(buf('sops_version=3.8.1\n[sops]\nsops:\n'), 'binary');
    expect(r.format.name).toBe('binary');
    expect(r.parsed.metadata).toBeUndefined();
  });
});

describe('readStore with an explicit store', () => {
  it('reads only that store', async () => {
    const { recipient } = await throwawayAgeKey();
    const yaml = buf(await encryptText('yaml', `a: ${SECRET}\n`, recipient));
    await expect(readStore(yaml, 'dotenv', { exact: true, needMetadata: true })).rejects.toThrow(/invalid dotenv/);
    expect((await readStore(yaml, 'binary', { exact: true, needMetadata: true })).parsed.metadata).toBeUndefined();
  });
});
