/**
 * The scanner on a corpus of fake secrets of each rule family, decoys and
 * binary files: every planted secret is caught (or is a documented miss),
 * no decoy is flagged; precision and recall are printed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Allowlist } from '../../src/scan/allowlist.js';
import { KnownValues } from '../../src/scan/known-values.js';
import { scanContent, type Finding } from '../../src/scan/scanner.js';
import { buildCorpus, score, type Corpus } from '../support/secret-corpus.js';
import { encryptText, throwawayAgeKey } from '../support/pipeline.js';

let corpus: Corpus;
let known: KnownValues;
let findings: Finding[];
let binarySkipped = 0;

beforeAll(async () => {
  corpus = buildCorpus();
  const key = await throwawayAgeKey();
  known = new KnownValues();
  const encrypted = await encryptText('yaml', `service:\n  token: ${corpus.knownValue}\n  port: 8080\n`, key.recipient);
  await known.addEncrypted('secrets.enc.yaml', Buffer.from(encrypted), { env: {}, identities: { age: [key.identity] } });
  findings = [];
  for (const file of corpus.files) {
    const outcome = await scanContent(file.path, Buffer.from(file.content), { allowlist: new Allowlist(), known });
    if (outcome.skipped === 'not-text') binarySkipped++;
    findings.push(...outcome.findings);
  }
}, 30_000);

describe('secret corpus', () => {
  it('catches every planted secret but the documented misses, and flags no decoy', () => {
    const result = score(corpus, findings);
    const documented = corpus.files.flatMap((f) => (f.expectedMisses ?? []).map((m) => `${f.path}:${m.line}`));
    console.log(`secret corpus: ${result.planted} planted, ${result.truePositives} caught, ${result.falsePositives.length} false positives; precision ${result.precision.toFixed(3)}, recall ${result.recall.toFixed(3)} (misses: ${result.missed.map((m) => `${m.file}:${m.line} ${m.family}`).join(', ') || 'none'})`);
    expect(result.falsePositives).toEqual([]);
    expect(result.missed.map((m) => `${m.file}:${m.line}`)).toEqual(documented);
  });

  it('knows each rule family it was planted with', () => {
    const rules = new Set(findings.map((f) => f.rule.split('/')[0]));
    for (const family of ['openai', 'aws', 'npm', 'github', 'gitlab', 'slack', 'sendgrid', 'shopify', 'privatekey', 'database-connection-string', 'basicauth', 'tsops']) expect(rules).toContain(family);
  });

  it('skips binary files, but not text with a NUL byte planted at its top', () => {
    expect(binarySkipped).toBe(1);
    expect(findings.some((f) => f.file === 'assets/logo.png')).toBe(false);
    expect(findings.filter((f) => f.file === 'assets/blob.bin').map((f) => f.line)).toEqual([2]);
  });

  it('never prints a planted secret: excerpts are masked', () => {
    const secrets = corpus.files.flatMap((f) => f.content.toString('utf8').split('\n').filter((_, i) => f.planted.some((p) => p.line === i + 1)));
    for (const finding of findings) {
      expect(finding.excerpt).toMatch(/\*{4}/);
      for (const line of secrets) {
        const value = line.split(/[=:'"]\s*/).pop()!;
        if (value.length >= 12) expect(finding.excerpt).not.toContain(value.slice(4, 12));
      }
    }
    expect(findings.find((f) => f.rule === 'tsops/known-value')?.matches).toBe('secrets.enc.yaml ["service"]["token"]');
  });
});
