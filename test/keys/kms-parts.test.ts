import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { regionFromArn, roleSessionName } from '../../src/keys/kms/kind.js';
import { DEFAULT_TIMEOUT_MS, timeoutFrom } from '../../src/keys/kms/clients.js';
import { quietly } from '../../src/aws/quietly.js';
import { describeFailure } from '../../src/keys/kms/failure.js';

const ARN = 'arn:aws:kms:us-east-1:123456789012:key/abc';
const at = { action: 'kms:Decrypt', arn: ARN, region: 'us-east-1', timeoutMs: 5000 };
const named = (name: string, message = '', extra: object = {}) => Object.assign(new Error(message), { name }, extra);

describe('regionFromArn', () => {
  it('reads the region of key and alias ARNs in every partition', () => {
    expect(regionFromArn(ARN)).toBe('us-east-1');
    expect(regionFromArn('arn:aws:kms:eu-west-3:123456789012:alias/app')).toBe('eu-west-3');
    expect(regionFromArn('arn:aws-cn:kms:cn-north-1:123456789012:key/x')).toBe('cn-north-1');
    expect(regionFromArn('arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/x')).toBe('us-gov-west-1');
  });

  it('refuses what is not a KMS key or alias ARN', () => {
    for (const text of ['', 'alias/app', 'arn:aws:kms:us-east-1::key/x', 'arn:aws:s3:us-east-1:123:key/x', 'arn:aws:kms:us-east-1:123:grant/x', 'arn:aws:kms:us-east-1:123:key/']) {
      expect(regionFromArn(text)).toBeUndefined();
    }
  });
});

describe('roleSessionName', () => {
  it('is sops@ and the hostname without characters STS refuses, at most 64 characters', () => {
    expect(roleSessionName('build-01.example.com')).toBe('sops@build-01.example.com');
    expect(roleSessionName('my host (laptop)')).toBe('sops@myhostlaptop');
    expect(roleSessionName('x'.repeat(100))).toBe(`sops@${'x'.repeat(59)}`);
    fc.assert(fc.property(fc.string({ maxLength: 120, unit: 'binary' }), (host) => {
      const name = roleSessionName(host);
      expect(name).toMatch(/^sops@[\w+=,.@-]{0,59}$/);
      if (/^[\w+=,.@-]{0,59}$/.test(host)) expect(name).toBe(`sops@${host}`);
    }));
  });
});

describe('timeoutFrom', () => {
  it('takes a positive whole number of milliseconds, else the default', () => {
    expect(timeoutFrom({ TSOPS_KMS_TIMEOUT_MS: '250' })).toBe(250);
    for (const raw of [undefined, '', '0', '-5', '1.5', 'soon']) expect(timeoutFrom(raw === undefined ? {} : { TSOPS_KMS_TIMEOUT_MS: raw })).toBe(DEFAULT_TIMEOUT_MS);
  });
});

describe('describeFailure', () => {
  it('summarises AWS access denials with principal, action and resource', () => {
    const e = named('AccessDeniedException', `User: arn:aws:iam::1:user/u is not authorized to perform: kms:Decrypt on resource: ${ARN} because no resource-based policy allows the kms:Decrypt action`);
    expect(describeFailure(e, at)).toBe(`AccessDeniedException: arn:aws:iam::1:user/u may not kms:Decrypt ${ARN}`);
    expect(describeFailure(named('AccessDeniedException', 'something else'), at)).toBe(`AccessDeniedException: access denied to kms:Decrypt ${ARN}`);
  });

  it('names network failures, including every address of an AggregateError', () => {
    const refused = (addr: string) => Object.assign(new Error(`connect ECONNREFUSED ${addr}`), { code: 'ECONNREFUSED' });
    expect(describeFailure(refused('127.0.0.1:9'), at)).toBe(`KMS unreachable for ${ARN} (connect ECONNREFUSED 127.0.0.1:9)`);
    const both = new AggregateError([refused('::1:9'), refused('127.0.0.1:9')], '');
    expect(describeFailure(both, at)).toBe(`KMS unreachable for ${ARN} (connect ECONNREFUSED ::1:9; connect ECONNREFUSED 127.0.0.1:9)`);
    expect(describeFailure(Object.assign(new Error('getaddrinfo ENOTFOUND kms.example'), { code: 'ENOTFOUND' }), { ...at, action: 'sts:AssumeRole' })).toBe(`STS unreachable for ${ARN} (getaddrinfo ENOTFOUND kms.example)`);
    expect(describeFailure(named('TimeoutError', 'x'), at)).toBe(`KMS did not answer within 5000 ms for ${ARN}`);
  });

  it('keeps unknown errors to one bounded line', () => {
    const out = describeFailure(named('WeirdError', `line one\n  line two ${'z'.repeat(500)}`), at);
    expect(out).not.toContain('\n');
    expect(out.startsWith(`kms:Decrypt ${ARN} failed: WeirdError: line one line two`)).toBe(true);
    expect(out.length).toBeLessThan(300);
    expect(describeFailure(undefined, at)).toBe(`kms:Decrypt ${ARN} failed: Error`);
    expect(describeFailure(named('KMSInvalidStateException'), at)).toBe(`key not usable in its current state: ${ARN} (KMSInvalidStateException)`);
    expect(describeFailure(named('CredentialsProviderError', 'Could not load credentials from any providers'), { ...at, profile: 'dev' })).toBe(`no AWS credentials found for ${ARN} with profile dev (Could not load credentials from any providers)`);
  });
});

describe('quietly', () => {
  it('routes process warnings to the log and restores emitWarning, even when the builder throws', () => {
    const original = process.emitWarning;
    const lines: string[] = [];
    expect(quietly((l) => lines.push(l), () => { process.emitWarning('first\nsecond'); return 1; })).toBe(1);
    expect(lines).toEqual(['aws-sdk: first second']);
    expect(() => quietly(undefined, () => { process.emitWarning('dropped'); throw new Error('boom'); })).toThrow('boom');
    expect(process.emitWarning).toBe(original);
  });
});

describe('lazy loading', () => {
  it('imports the AWS SDK only inside functions (type imports aside)', () => {
    const dir = fileURLToPath(new URL('../../src/keys/', import.meta.url));
    const files = [...readdirSync(`${dir}kms`).map((f) => `kms/${f}`), '../aws/quietly.ts'];
    for (const file of files) {
      const source = readFileSync(`${dir}${file}`, 'utf8');
      const staticImports = [...source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'(@aws-sdk\/[^']+|@smithy\/[^']+)'/gm)].map((m) => m[1]);
      expect({ file, staticImports }).toEqual({ file, staticImports: [] });
    }
    expect(readFileSync(`${dir}kms/clients.ts`, 'utf8')).toMatch(/await import\('@aws-sdk\/client-kms'\)/);
  });
});
