import { ConfigError } from '../errors.js';

/** Which leaves are encrypted (spec §3). At most one rule is set; none means `_unencrypted` suffix. */
export type EncryptionRuleKind =
  | 'unencrypted_suffix'
  | 'encrypted_suffix'
  | 'unencrypted_regex'
  | 'encrypted_regex'
  | 'unencrypted_comment_regex'
  | 'encrypted_comment_regex';

export interface EncryptionRule {
  kind: EncryptionRuleKind;
  value: string;
}

export const RULE_KINDS: readonly EncryptionRuleKind[] = [
  'unencrypted_suffix',
  'encrypted_suffix',
  'unencrypted_regex',
  'encrypted_regex',
  'unencrypted_comment_regex',
  'encrypted_comment_regex',
];

export const DEFAULT_RULE: EncryptionRule = { kind: 'unencrypted_suffix', value: '_unencrypted' };

/**
 * Decides, for each leaf, whether it is encrypted. Path components are the
 * mapping keys from the root (list levels add none); `comments` are the comment
 * stack frames visible at the leaf (spec §3).
 */
export class EncryptionPolicy {
  private readonly regex: RegExp | undefined;

  constructor(readonly rule: EncryptionRule) {
    if (rule.kind.endsWith('_regex')) {
      try {
        this.regex = new RegExp(rule.value, 'u');
      } catch {
        throw new ConfigError(`invalid ${rule.kind} '${rule.value}'`);
      }
    }
  }

  get usesComments(): boolean {
    return this.rule.kind === 'unencrypted_comment_regex' || this.rule.kind === 'encrypted_comment_regex';
  }

  shouldEncrypt(path: readonly string[], comments: readonly string[]): boolean {
    const { kind, value } = this.rule;
    switch (kind) {
      case 'unencrypted_suffix':
        return !path.some((k) => k.endsWith(value));
      case 'encrypted_suffix':
        return path.some((k) => k.endsWith(value));
      case 'unencrypted_regex':
        return !path.some((k) => this.regex!.test(k));
      case 'encrypted_regex':
        return path.some((k) => this.regex!.test(k));
      case 'unencrypted_comment_regex':
        return !comments.some((c) => this.regex!.test(c));
      case 'encrypted_comment_regex':
        return comments.some((c) => this.regex!.test(c));
    }
  }
}
