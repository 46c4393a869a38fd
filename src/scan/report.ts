/** Findings as one line each, with the fix to paste; and the scan's summary line. */
import { shellWord } from '../git/guard.js';
import { targetFor, type ScanFinding, type ScanSummary } from './run.js';
import { KNOWN_VALUE_RULE } from './scanner.js';

export function findingLine(finding: ScanFinding, summary: Pick<ScanSummary, 'encryptedFiles'>): string {
  const where = `${finding.file}:${finding.line}:${finding.column}`;
  const commit = finding.commit ? ` (added in commit ${finding.commit.slice(0, 12)})` : '';
  const rule = finding.rule === KNOWN_VALUE_RULE ? `${finding.rule}, the value of ${finding.matches}` : finding.rule;
  return `${where}: ${rule}: ${finding.excerpt}${commit}; fix: ${fixFor(finding, summary.encryptedFiles)}`;
}

function fixFor(finding: ScanFinding, encryptedFiles: string[]): string {
  const file = shellWord(finding.file);
  const rotate = finding.commit ? ', and rotate the secret: it stays readable in the history' : '';
  if (finding.rule === KNOWN_VALUE_RULE) return `remove it from ${file} and read it from its encrypted file (tsops exec-env, tsops decrypt --extract)${rotate}`;
  const target = targetFor(finding.file, encryptedFiles);
  const path = `'${JSON.stringify([finding.keyName]).replaceAll("'", "'\\''")}'`;
  const set = `tsops set --value-stdin ${shellWord(target.path)} ${path}`;
  const create = target.exists ? '' : `tsops edit ${shellWord(target.path)} to create it, then `;
  return `${create}${set} (give the value as a JSON string on standard input), then remove it from ${file}${rotate}`;
}

export function summaryLine(summary: ScanSummary): string {
  const skipped: string[] = [];
  if (summary.binary) skipped.push(`${summary.binary} binary skipped`);
  if (summary.truncated) skipped.push(`${summary.truncated} read up to 1 MiB only`);
  const scope = summary.commits !== undefined ? `${plural(summary.commits, 'commit')}, ${plural(summary.files, 'blob')}` : plural(summary.files, 'file');
  const files = new Set(summary.findings.map((f) => (f.commit ? `${f.commit}:${f.file}` : f.file))).size;
  const result = summary.findings.length ? `${plural(summary.findings.length, 'finding')} in ${plural(files, summary.commits !== undefined ? 'blob' : 'file')}` : 'no secrets found';
  const known = summary.unopened.length
    ? `; ${plural(summary.unopened.length, 'encrypted file')} not opened with the keys here (age only), so ${summary.unopened.length === 1 ? 'its' : 'their'} values were not looked for`
    : '';
  return `scanned ${scope}${skipped.length ? ` (${skipped.join(', ')})` : ''}: ${result}${known}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
