import { describe, expect, it } from 'vitest';
import { createKeyring } from '../../src/keys/index.js';
import type { MasterKeyType } from '../../src/keys/masterkey.js';
import { SPEC_IDENTITY, SPEC_RECIPIENT } from './helpers.js';

describe('createKeyring', () => {
  it('creates each supported kind once and shares it', async () => {
    const keyring = createKeyring({ env: {} });
    const age = await keyring.kind('age');
    expect(age.type).toBe('age');
    expect(await keyring.kind('age')).toBe(age);
    const pgp = await keyring.kind('pgp');
    expect(pgp.type).toBe('pgp');
    expect(await keyring.kind('pgp')).toBe(pgp);
    expect(await createKeyring({ env: {} }).kind('age')).not.toBe(age);
  });

  it('hands its options to the kinds', async () => {
    const keyring = createKeyring({ env: {}, identities: { age: [SPEC_IDENTITY] } });
    const age = await keyring.kind('age');
    const record = await age.wrap({ type: 'age', recipient: SPEC_RECIPIENT }, new Uint8Array(32).fill(3));
    expect(new Uint8Array(await age.unwrap(record))).toEqual(new Uint8Array(32).fill(3));
  });

  it('loads the AWS KMS kind on demand', async () => {
    const kms = await createKeyring().kind('kms');
    expect(kms.type).toBe('kms');
  });

  it.each<MasterKeyType>(['gcp_kms', 'azure_kv', 'hc_vault', 'hckms'])('refuses %s keys', async (type) => {
    const keyring = createKeyring();
    await expect(keyring.kind(type)).rejects.toThrow(new RegExp(`^${type} keys are not supported by tsops$`));
    await expect(keyring.kind(type)).rejects.toThrow(/not supported/);
  });
});
