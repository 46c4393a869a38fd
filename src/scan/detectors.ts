/**
 * secretlint's recommended rules, the scanner's pattern knowledge. The core
 * and the preset are about 1.5 MB and 40 ms to load,
 * so they are loaded on the first file there is to scan: a guard with nothing
 * staged, or with only encrypted files staged, never loads them.
 */
import { extname } from 'node:path';
import type { SecretLintCoreConfig } from '@secretlint/types';

/** One match of a pattern rule: 1-based line, 0-based column, and the matched range in the text. */
export interface PatternMatch {
  rule: string;
  line: number;
  column: number;
  start: number;
  end: number;
}

type Lint = (text: string, filePath: string) => Promise<PatternMatch[]>;
let linter: Promise<Lint> | undefined;

export function patternMatches(text: string, filePath: string): Promise<PatternMatch[]> {
  linter ??= loadLinter();
  return linter.then((lint) => lint(text, filePath));
}

/** `@secretlint/secretlint-rule-aws` + `AWSAccessKeyID` → `aws/AWSAccessKeyID`: the id findings and allowlists use. */
export function shortRuleId(ruleId: string, messageId: string): string {
  const rule = ruleId.replace(/^@secretlint\/secretlint-rule-/, '').replace(/^secretlint-rule-/, '');
  return messageId ? `${rule}/${messageId}` : rule;
}

async function loadLinter(): Promise<Lint> {
  const [core, recommend, { secretLintProfiler }] = await Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend'), import('@secretlint/profiler')]);
  // secretlint's profiler is always on: it keeps every performance mark of the process and searches them all at each new one,
  // so the time per file grew with the number of files scanned (minutes for a history of 2,000 commits). Nothing here reads it.
  secretLintProfiler.mark = () => undefined;
  // The preset includes secretlint's directive comments: `secretlint-disable-line`, `secretlint-disable-next-line`, `secretlint-disable` … `secretlint-enable`.
  // An access key id alone is checked too (the preset leaves it off): in a commit it is half of a credential and names the account.
  const config: SecretLintCoreConfig = {
    rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommend.creator, rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }] }],
  };
  return async (text, filePath) => {
    const ext = extname(filePath);
    const result = await core.lintSource({
      // The extension picks file-type rules (a service-account `.json`); `.p12` is never passed, as that rule reads the path from disk, and what is scanned is a blob, not the working copy.
      source: { filePath, ext: ext === '.p12' ? '' : ext, content: text, contentType: 'text' },
      // Messages are never printed (they can quote the secret): only rule, message id and place are kept.
      options: { config, maskSecrets: true, noPhysicFilePath: true },
    });
    // The same switch turns on the account-number pattern: an account number is not a credential.
    return result.messages.filter((m) => m.messageId !== 'AWSAccountID' && !isPlaceholder(text.slice(m.range[0], m.range[1]))).map((m) => ({
      rule: shortRuleId(m.ruleId, m.messageId),
      line: m.loc.start.line,
      column: m.loc.start.column,
      start: m.range[0],
      end: m.range[1],
    }));
  };
}

const PLACEHOLDER_WORDS = /example|placeholder|changeme|change_me|your[_-]|xxxx|redacted|dummy|\$\{|\{\{|<[a-z_-]+>/i;

/**
 * Documentation and templates show the shape of a token with filler:
 * `AKIAXXXXXXXXXXXXXXXX`, `ghp_your_token_here`, `${TOKEN}`. A one-line match
 * with such words, or a run of six identical characters, is not reported
 * (a key block spans lines and is always reported).
 */
export function isPlaceholder(match: string): boolean {
  if (match.includes('\n')) return false;
  return PLACEHOLDER_WORDS.test(match) || /(.)\1{5}/.test(match);
}
