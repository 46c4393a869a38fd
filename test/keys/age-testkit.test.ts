/**
 * The age testkit (C2SP CCTV, the `cctv-age` package) against tsops's own age
 * header, X25519 and STREAM code (src/keys/age/): every vector whose
 * identities are X25519 keys must succeed with exactly the expected payload,
 * or fail (throw, or find no stanza for the identity) as the vector expects.
 * Vectors for other recipient types (scrypt, post-quantum hybrid) go to the
 * age library in tsops and are counted apart.
 */
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as vectors from 'cctv-age';
import { dearmor } from '../../src/keys/age/armor.js';
import { decryptX25519, parseX25519Identity, type X25519Identity } from '../../src/keys/age/x25519.js';

interface Vector {
  name: string;
  expect: string;
  payloadSha256?: string;
  identities: string[];
  armored: boolean;
  file: Buffer;
}

function parseVector(name: string, bytes: Uint8Array): Vector {
  let data = Buffer.from(bytes);
  const end = data.indexOf('\n\n');
  const header = data.subarray(0, end).toString('utf8').split('\n');
  const fields = header.map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)] as const);
  const get = (k: string) => fields.filter(([f]) => f === k).map(([, v]) => v);
  let file = data.subarray(end + 2);
  if (get('compressed')[0] === 'zlib') file = inflateSync(file);
  data = Buffer.alloc(0);
  return { name, expect: get('expect')[0]!, payloadSha256: get('payload')[0], identities: get('identity'), armored: get('armored')[0] === 'yes', file };
}

const all = Object.entries(vectors as unknown as Record<string, Uint8Array>).filter(([name, bytes]) => name !== 'default' && bytes instanceof Uint8Array).map(([name, bytes]) => parseVector(name, bytes));
const x25519 = all.filter((v) => v.identities.length > 0 && v.identities.every((i) => i.startsWith('AGE-SECRET-KEY-1')));

type Outcome = { ok: Buffer } | { failed: string };

function attempt(v: Vector): Outcome {
  try {
    const ids = v.identities.map((i) => parseX25519Identity(i)).filter((i): i is X25519Identity => i !== undefined);
    if (ids.length !== v.identities.length) return { failed: 'identity not parsed' };
    const file = v.armored ? dearmor(v.file.toString('latin1')) : v.file;
    const out = decryptX25519(file, ids);
    return out ? { ok: out } : { failed: 'no match' };
  } catch (e) {
    return { failed: (e as Error).message };
  }
}

describe('age testkit (cctv-age)', () => {
  it('holds the vectors this test expects', () => {
    expect(all.length).toBeGreaterThan(90);
    expect(x25519.length).toBeGreaterThan(60);
    console.log(`hardening: age testkit: ${all.length} vectors, ${x25519.length} with X25519 identities run against tsops's own age code, ${all.length - x25519.length} for other recipient types left to the age library`);
  });

  it.each(x25519.filter((v) => v.expect === 'success').map((v) => [v.name, v] as const))('%s decrypts to the expected payload', (_name, v) => {
    const outcome = attempt(v);
    expect(outcome).toHaveProperty('ok');
    const payload = (outcome as { ok: Buffer }).ok;
    expect(createHash('sha256').update(payload).digest('hex')).toBe(v.payloadSha256);
  });

  it.each(x25519.filter((v) => v.expect !== 'success').map((v) => [v.name, v] as const))('%s is refused', (_name, v) => {
    expect(attempt(v)).toHaveProperty('failed');
  });
});
