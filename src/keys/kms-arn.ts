import type { KeySpec } from './masterkey.js';

/** `arn`, or `arn+role_arn` to assume a role first, spaces removed: how sops reads KMS keys from strings. */
export function splitKmsArn(text: string): { arn: string; role?: string } {
  const compact = text.replace(/\s+/g, '');
  const plus = compact.indexOf('+arn:');
  return plus < 0 ? { arn: compact } : { arn: compact.slice(0, plus), role: compact.slice(plus + 1) };
}

export function kmsFromString(text: string, awsProfile?: string): KeySpec {
  const spec: KeySpec = { type: 'kms', ...splitKmsArn(text) };
  if (awsProfile) spec.awsProfile = awsProfile;
  return spec;
}
