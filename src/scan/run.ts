/**
 * One scan: the encrypted files' values are learnt (only when there is
 * something to scan), every target is read once, scanned and zeroed.
 */
import { posix } from 'node:path';
import type { KeyOptions } from '../keys/masterkey.js';
import type { Allowlist } from './allowlist.js';
import { KnownValues } from './known-values.js';
import { scanContent, type Finding } from './scanner.js';
import type { TargetSet } from './sources.js';

export interface ScanFinding extends Finding {
  commit?: string;
}

export interface ScanSummary {
  findings: ScanFinding[];
  files: number;
  binary: number;
  truncated: number;
  /** Findings passed over by the config's allowlist. */
  allowed: number;
  commits?: number;
  knownValues: number;
  opened: string[];
  unopened: string[];
  /** Encrypted files in the scanned tree: where a fix moves a value. */
  encryptedFiles: string[];
}

export async function runScan(set: TargetSet, allowlist: Allowlist, keys: KeyOptions): Promise<ScanSummary> {
  const summary: ScanSummary = { findings: [], files: 0, binary: 0, truncated: 0, allowed: 0, knownValues: 0, opened: [], unopened: [], encryptedFiles: [] };
  if (set.commits !== undefined) summary.commits = set.commits;
  const known = new KnownValues();
  try {
    if (set.targets.length === 0) return summary;
    for (const { path, bytes } of set.encrypted()) {
      summary.encryptedFiles.push(path);
      await known.addEncrypted(path, bytes, keys);
    }
    summary.knownValues = known.size;
    summary.opened = known.opened;
    summary.unopened = known.unopened;
    for (const target of set.targets) {
      const bytes = target.read();
      try {
        const outcome = await scanContent(target.path, bytes, { allowlist, known });
        summary.files++;
        if (outcome.skipped === 'not-text') summary.binary++;
        if (outcome.truncated) summary.truncated++;
        summary.allowed += outcome.allowed ?? 0;
        for (const finding of outcome.findings) summary.findings.push(target.commit ? { ...finding, commit: target.commit } : finding);
      } finally {
        bytes.fill(0);
      }
    }
    return summary;
  } finally {
    known.forget();
    set.dispose();
  }
}

/** The encrypted file a finding's value should move to: one in the same directory, else the first, else a new one at the top. */
export function targetFor(file: string, encryptedFiles: string[]): { path: string; exists: boolean } {
  const dir = posix.dirname(file);
  const near = encryptedFiles.find((p) => posix.dirname(p) === dir) ?? encryptedFiles[0];
  return near ? { path: near, exists: true } : { path: 'secrets.enc.yaml', exists: false };
}
