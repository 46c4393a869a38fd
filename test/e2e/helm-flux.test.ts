/**
 * Tools that call sops: helm-secrets (its sops backend's exact calls and the
 * text markers it greps for) and Flux's kustomize-controller (a YAML Secret
 * converted to JSON, then decrypted with the JSON store).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecipheriv, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { armor, Decrypter } from 'age-encryption';
import { join } from 'node:path';
import { decryptSops } from 'sops-age';
import { parse } from 'yaml';
import { FAKE_EDITOR as EDITOR, sandbox, type Sandbox } from '../support/cli.js';
import { throwawayAgeKey } from '../support/pipeline.js';

let sb: Sandbox;
let n = 0;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

/** helm-secrets finds keys through .sops.yaml or the environment; the environment keeps the calls exactly as it makes them. */
const run = (args: string[], input?: string) => sb.run(args, { env: { SOPS_AGE_RECIPIENTS: sb.recipient }, ...(input === undefined ? {} : { input }) });
const read = (name: string): string => readFileSync(join(sb.dir, name), 'utf8');

// helm-secrets's own tests of a file's state, as regular expressions over its lines.
const isEncrypted = (text: string): boolean => text.split('\n').some((l) => /mac.*,type:str]/.test(l));
const isYaml = (text: string): boolean => text.split('\n').some((l) => l === 'sops:');
const isBinary = (text: string): boolean => text.includes('"data": "ENC');

const samples = {
  yaml: { ext: 'yaml', text: 'image:\n    tag: v1\npassword: hunter2\nreplicas: 3\n' },
  json: { ext: 'json', text: '{\n\t"password": "hunter2",\n\t"replicas": 3\n}\n' },
  dotenv: { ext: 'env', text: 'PASSWORD=hunter2\nREPLICAS=3\n' },
  binary: { ext: 'crt', text: '-----BEGIN CERT-----\nhunter2\n-----END CERT-----\n' },
} as const;
type Kind = keyof typeof samples;
const kinds = Object.keys(samples) as Kind[];

function plainFile(kind: Kind): string {
  const name = `values-${++n}.${samples[kind].ext}`;
  writeFileSync(join(sb.dir, name), samples[kind].text);
  return name;
}

describe.each(kinds)('helm-secrets calls, %s', (kind) => {
  const T = kind;

  it('--encrypt --input-type T --output-type T --in-place FILE, then --decrypt ... --in-place FILE', () => {
    const f = plainFile(kind);
    const enc = run(['--encrypt', '--input-type', T, '--output-type', T, '--in-place', f]);
    expect(enc.stderr).toBe('');
    expect(enc.status).toBe(0);
    const text = read(f);
    expect(text).not.toContain('hunter2');
    expect(isEncrypted(text)).toBe(true);
    expect(isYaml(text)).toBe(kind === 'yaml');
    expect(isBinary(text)).toBe(kind === 'binary');
    const dec = run(['--decrypt', '--input-type', T, '--output-type', T, '--in-place', f]);
    expect(dec.status).toBe(0);
    expect(read(f)).toBe(samples[kind].text);
    expect(isEncrypted(read(f))).toBe(false);
  });

  it('--encrypt / --decrypt ... --output OUT FILE', () => {
    const f = plainFile(kind);
    expect(run(['--encrypt', '--input-type', T, '--output-type', T, '--output', `${f}.enc`, f]).status).toBe(0);
    expect(read(f)).toBe(samples[kind].text);
    expect(isEncrypted(read(`${f}.enc`))).toBe(true);
    const dec = run(['--decrypt', '--input-type', T, '--output-type', T, '--output', `${f}.dec`, `${f}.enc`]);
    expect(dec.status).toBe(0);
    expect(dec.stdout).toBe('');
    expect(read(`${f}.dec`)).toBe(samples[kind].text);
  });

  it('--decrypt --input-type json --output-type json /dev/stdin', () => {
    const f = plainFile(kind);
    expect(run(['--encrypt', '--input-type', T, '--output-type', 'json', '--output', `${f}.json`, f]).status).toBe(0);
    const dec = run(['--decrypt', '--input-type', 'json', '--output-type', 'json', '/dev/stdin'], read(`${f}.json`));
    expect(dec.stderr).toBe('');
    expect(dec.status).toBe(0);
    expect(dec.stdout).toContain('hunter2');
    expect(() => JSON.parse(dec.stdout)).not.toThrow();
  });
});

describe('helm-secrets edit: --input-type yaml --output-type yaml FILE', () => {
  it('opens the decrypted file in $EDITOR and re-encrypts the change', () => {
    const f = plainFile('yaml');
    expect(run(['--encrypt', '--input-type', 'yaml', '--output-type', 'yaml', '--in-place', f]).status).toBe(0);
    const log = join(sb.dir, 'editor.log');
    const r = sb.run(['--input-type', 'yaml', '--output-type', 'yaml', f], {
      env: { EDITOR, FAKE_EDITOR_LOG: log, FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'replace', from: 'hunter2', to: 'swordfish' }]) },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const text = read(f);
    expect(isEncrypted(text) && isYaml(text)).toBe(true);
    expect(text).not.toContain('swordfish');
    expect(run(['--decrypt', '--input-type', 'yaml', '--output-type', 'yaml', f]).stdout).toContain('password: swordfish');
  });
});

/** The sops MAC over plaintext values (docs/format.md#mac): every non-null leaf in order, bools as True/False, floats without exponent. */
function macOfValues(tree: unknown): string {
  const hash = createHash('sha512');
  const walk = (node: unknown): void => {
    if (node === null) return;
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object') Object.values(node as Record<string, unknown>).forEach(walk);
    else if (typeof node === 'boolean') hash.update(node ? 'True' : 'False');
    else if (typeof node === 'number') hash.update(Number.isInteger(node) ? node.toFixed(0) : String(node));
    else hash.update(String(node));
  };
  walk(tree);
  return hash.digest('hex').toUpperCase();
}

/** The stored MAC, decrypted with the data key unwrapped by the age library (one age key, one group). */
async function independentMac(meta: { age: { enc: string }[]; mac: string; lastmodified: string }): Promise<{ stored: string }> {
  const decrypter = new Decrypter();
  decrypter.addIdentity(sb.identity);
  const dataKey = await decrypter.decrypt(armor.decode(meta.age[0]!.enc), 'uint8array');
  const part = (name: string): Buffer => Buffer.from(new RegExp(`${name}:([^,\\]]+)`).exec(meta.mac)![1]!, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', dataKey, part('iv'));
  decipher.setAAD(Buffer.from(meta.lastmodified));
  decipher.setAuthTag(part('tag'));
  return { stored: Buffer.concat([decipher.update(part('data')), decipher.final()]).toString('utf8') };
}

describe('Flux kustomize-controller: a YAML Secret converted to JSON decrypts with the JSON store', () => {
  // Plaintext (unencrypted) fields carry every scalar kind, so the MAC covers ints, floats, bools and nulls as the converter rewrote them.
  const secret = [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '    name: db',
    '    annotations:',
    '        replicas: 3',
    '        ratio: 1.0',
    '        scale: 1e3',
    '        hex: 0x1F',
    '        negative: -0.50',
    '        enabled: true',
    '        disabled: False',
    '        word: no',
    '        empty: null',
    '        tilde: ~',
    '        list: [1, 2.50, true, null, text]',
    'type: Opaque',
    'stringData:',
    '    password: hunter2',
    '    port: 5432',
    '    pi: 3.140',
    '    debug: false',
    'data:',
    '    token: dG9rZW4=',
    '',
  ].join('\n');

  it('tsops --input-type json verifies the MAC, and sops-age decodes the same values', async () => {
    writeFileSync(join(sb.dir, 'secret.yaml'), secret);
    const enc = run(['encrypt', '--encrypted-regex', '^(data|stringData)$', 'secret.yaml']);
    expect(enc.status).toBe(0);
    const json = JSON.stringify(parse(enc.stdout));
    writeFileSync(join(sb.dir, 'secret.json'), json);

    const expected = parse(secret);
    const dec = sb.run(['decrypt', '--input-type', 'json', '--output-type', 'json', 'secret.json']);
    expect(dec.stderr).toBe('');
    expect(dec.status).toBe(0);
    expect(JSON.parse(dec.stdout)).toEqual(expected);
    // The MAC really is checked on this path: a changed plaintext field fails it.
    writeFileSync(join(sb.dir, 'tampered.json'), json.replace('"replicas":3', '"replicas":4'));
    expect(sb.run(['decrypt', '--input-type', 'json', 'tampered.json']).status).toBe(51);

    const independent = await decryptSops(json, { secretKey: sb.identity, fileType: 'json' });
    expect(independent).toEqual(expected);
    // sops-age does not check the MAC: check it here, from sops-age's values and the converted JSON alone.
    expect(await independentMac(JSON.parse(json).sops)).toEqual({ stored: macOfValues(independent) });
  });

  it('also with comments (encrypted, dropped by the conversion), mac_only_encrypted and two key groups', async () => {
    const other = await throwawayAgeKey();
    const both = join(sb.dir, 'flux-keys.txt');
    writeFileSync(both, `${sb.identity}\n${other.identity}\n`, { mode: 0o600 });
    writeFileSync(join(sb.dir, 'commented.yaml'), `# database credentials\n${secret.replace('    password: hunter2', '    # rotated monthly\n    password: hunter2 # do not share')}`);
    expect(run(['encrypt', '--mac-only-encrypted', '--encrypted-regex', '^(data|stringData)$', '-i', 'commented.yaml']).status).toBe(0);
    expect(sb.run(['groups', 'add', '-f', 'commented.yaml', '--age', other.recipient, '-i']).status).toBe(0);
    const text = read('commented.yaml');
    expect(text).toMatch(/shamir_threshold: 2/);
    expect(text).not.toContain('rotated monthly');
    writeFileSync(join(sb.dir, 'commented.json'), JSON.stringify(parse(text)));
    const dec = sb.run(['decrypt', '--input-type', 'json', '--output-type', 'json', 'commented.json'], { env: { SOPS_AGE_KEY_FILE: both } });
    expect(dec.stderr).toBe('');
    expect(dec.status).toBe(0);
    expect(JSON.parse(dec.stdout)).toEqual(parse(secret));
  });
});
