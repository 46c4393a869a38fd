import type { KeySpec } from './masterkey.js';

/** `arn`, or `arn+role_arn` to assume a role first (spaces removed), as sops reads KMS keys from strings. */
export function kmsFromString(text: string, awsProfile?: string): KeySpec {
  const arn = text.replace(/\s+/g, '');
  const plus = arn.indexOf('+arn:');
  const spec: KeySpec = { type: 'kms', arn: plus >= 0 ? arn.slice(0, plus) : arn };
  if (plus >= 0) spec.role = arn.slice(plus + 1);
  if (awsProfile) spec.awsProfile = awsProfile;
  return spec;
}
