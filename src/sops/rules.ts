import { ConfigError } from '../errors.js';
import { compileRe2, type LinearRegex, RegexSyntaxError } from '../regex/re2.js';

/** Which leaves are encrypted (docs/format.md#which-values-are-encrypted). At most one rule is set; none means `_unencrypted` suffix. */
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
 * stack frames visible at the leaf (docs/format.md#which-values-are-encrypted).
 */
export class EncryptionPolicy {
  private compiled: LinearRegex | undefined;

  constructor(readonly rule: EncryptionRule) {}

  /** Compiled on first use: a policy that is only carried along (decrypt) never loads the regex engine. */
  private get regex(): LinearRegex {
    if (this.compiled) return this.compiled;
    try {
      this.compiled = compileRe2(this.rule.value);
    } catch (e) {
      if (e instanceof RegexSyntaxError) throw new ConfigError(`invalid ${this.rule.kind}: ${e.message}`);
      throw e;
    }
    return this.compiled;
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
        return !path.some((k) => this.regex.test(k));
      case 'encrypted_regex':
        return path.some((k) => this.regex.test(k));
      case 'unencrypted_comment_regex':
        return !comments.some((c) => this.regex.test(c));
      case 'encrypted_comment_regex':
        return comments.some((c) => this.regex.test(c));
    }
  }
}
