import { splitCommaList } from '../../comma-list.js';
import { TsopsError } from '../../errors.js';

/** `arn`, or `arn+role_arn` to assume a role first, spaces removed: how sops reads KMS keys from strings. */
export function splitKmsArn(text: string): { arn: string; role?: string } {
  const compact = text.replace(/\s+/g, '');
  const plus = compact.indexOf('+arn:');
  return plus < 0 ? { arn: compact } : { arn: compact.slice(0, plus), role: compact.slice(plus + 1) };
}

/** The identity sops compares KMS keys by: ARN, `+role`, `|k:v,...` context sorted by key, `|profile`. */
export function kmsIdentity(arn: string, role?: string, context?: Record<string, string>, profile?: string): string {
  let id = arn;
  if (role) id += `+${role}`;
  const ctx = context ? Object.keys(context).sort().map((k) => `${k}:${context[k]}`) : [];
  if (ctx.length) id += `|${ctx.join(',')}`;
  if (profile) id += `|${profile}`;
  return id;
}

/**
 * `--encryption-context k1:v1,k2:v2`. Each pair has exactly one `:`; anything
 * else is sops's exit code 6. Pairs are trimmed and empty ones skipped.
 */
export function parseEncryptionContext(text: string): Record<string, string> {
  const pairs: [string, string][] = [];
  for (const pair of splitCommaList(text)) {
    const parts = pair.split(':');
    if (parts.length !== 2 || parts[0] === '') {
      throw new TsopsError(`invalid encryption context pair ${JSON.stringify(pair)}: expected key:value with exactly one ':'`, 'bad-encryption-context');
    }
    pairs.push([parts[0]!, parts[1]!]);
  }
  // fromEntries defines own properties, so a key such as `__proto__` is kept as data.
  return Object.fromEntries(pairs);
}
