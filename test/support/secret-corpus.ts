/**
 * A corpus of FAKE secrets for the scanner's tests, made at test time from
 * random material in the shape each rule family looks for (so no token-shaped
 * literal is ever committed, and none is live), plus decoys that look secret
 * and are not, and binary files. Each planted secret names the line it is on.
 */
import { generateKeyPairSync, randomBytes, randomInt, randomUUID, createHash } from 'node:crypto';

const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomFrom(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  // Filler never looks like filler: no run of identical characters, no placeholder word.
  return /(.)\1{3}|xxxx|example|dummy|your/i.test(out) ? randomFrom(alphabet, length) : out;
}

export interface CorpusFile {
  path: string;
  content: Buffer;
  /** Lines (1-based) holding a planted secret, with the family it belongs to. */
  planted: { line: number; family: string }[];
  /** Planted secrets no rule can know (no shape of their own), with the reason. */
  expectedMisses?: { line: number; family: string; reason: string }[];
}

export interface Corpus {
  files: CorpusFile[];
  /** A value that is also stored in the encrypted file of the tests that use one. */
  knownValue: string;
}

const text = (path: string, lines: string[], planted: CorpusFile['planted'] = [], expectedMisses?: CorpusFile['expectedMisses']): CorpusFile => ({
  path,
  content: Buffer.from(lines.join('\n') + '\n'),
  planted,
  ...(expectedMisses ? { expectedMisses } : {}),
});

export function buildCorpus(): Corpus {
  const awsId = `AKIA${randomFrom(UPPER_DIGITS, 16)}`;
  const awsSecret = randomFrom(ALNUM + '/+', 40);
  const ghp = `ghp_${randomFrom(ALNUM, 36)}`;
  const glpat = `glpat-${randomFrom(ALNUM, 20)}`;
  const slack = `xoxb-${randomInt(1e11, 9e11)}-${randomInt(1e11, 9e11)}-${randomFrom(ALNUM, 24)}`;
  const slackHook = `https://hooks.slack.com/services/T${randomFrom(UPPER_DIGITS, 8)}/B${randomFrom(UPPER_DIGITS, 8)}/${randomFrom(ALNUM, 24)}`;
  const npm = `npm_${randomFrom(ALNUM, 36)}`;
  const openai = `sk-${randomFrom(ALNUM, 20)}T3BlbkFJ${randomFrom(ALNUM, 20)}`;
  const sendgrid = `SG.${randomFrom(ALNUM, 22)}.${randomFrom(ALNUM, 43)}`;
  const shopify = `shpat_${randomBytes(16).toString('hex')}`;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } }).privateKey;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const dbPassword = randomFrom(ALNUM, 16);
  const basicPassword = randomFrom(ALNUM, 14);
  const knownValue = randomFrom(ALNUM, 32);
  const shapeless = randomFrom(ALNUM, 32);

  const files: CorpusFile[] = [
    text('config.py', ['import os', '', `OPENAI_API_KEY = "${openai}"`, 'DEBUG = False'], [{ line: 3, family: 'openai' }]),
    text('deploy/aws.env', [`AWS_ACCESS_KEY_ID=${awsId}`, `AWS_SECRET_ACCESS_KEY=${awsSecret}`, 'AWS_REGION=eu-west-1'], [
      { line: 1, family: 'aws' },
      { line: 2, family: 'aws' },
    ]),
    text('.npmrc', ['registry=https://registry.npmjs.org/', `//registry.npmjs.org/:_authToken=${npm}`], [{ line: 2, family: 'npm' }]),
    text('scripts/release.sh', ['#!/bin/sh', `export GITHUB_TOKEN=${ghp}`, `export GITLAB_TOKEN=${glpat}`, 'gh release create "$1"'], [
      { line: 2, family: 'github' },
      { line: 3, family: 'gitlab' },
    ]),
    text('chat/notify.js', [`const token = '${slack}';`, `const hook = '${slackHook}';`, 'module.exports = { token, hook };'], [
      { line: 1, family: 'slack' },
      { line: 2, family: 'slack' },
    ]),
    text('mail/settings.yaml', ['mail:', `  sendgrid_key: ${sendgrid}`, '  from: noreply@example.org'], [{ line: 2, family: 'sendgrid' }]),
    text('shop/.env', [`SHOPIFY_TOKEN=${shopify}`], [{ line: 1, family: 'shopify' }]),
    { path: 'keys/server.pem', content: Buffer.from(rsa), planted: [{ line: 1, family: 'privatekey' }] },
    { path: 'keys/signing.key', content: Buffer.from(ec.privateKey), planted: [{ line: 1, family: 'privatekey' }] },
    text('app/database.yml', ['production:', `  url: postgres://app:${dbPassword}@db.internal:5432/app`], [{ line: 2, family: 'database-connection-string' }]),
    text('mirror.txt', [`https://builder:${basicPassword}@git.internal.test/repo.git`], [{ line: 1, family: 'basicauth' }]),
    text('local.ini', ['[service]', `token = ${knownValue}`], [{ line: 2, family: 'known-value' }]),
    text('notes/api.txt', ['The partner API key:', `partner_key = ${shapeless}`], [], [
      { line: 2, family: 'generic', reason: 'a random string with no prefix or structure of its own: no pattern rule can tell it from an id; only the known-value check finds such a value, once it is in an encrypted file' },
    ]),
    // Decoys: the shapes documentation and ordinary code use.
    text('docs/aws.md', ['Set your keys:', '', '    AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', '    AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX', '    AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY']),
    text('docs/tokens.md', ['GITHUB_TOKEN=ghp_your_token_here', 'NPM_TOKEN=${NPM_TOKEN}', '//registry.npmjs.org/:_authToken=${NPM_TOKEN}', 'SLACK_TOKEN=xoxb-your-token', 'password: changeme']),
    text('src/ids.ts', [`export const REQUEST_ID = '${randomUUID()}';`, `export const CHECKSUM = '${createHash('sha256').update('x').digest('hex')}';`, `export const COMMIT = '${randomBytes(20).toString('hex')}';`, `export const NONCE = '${randomBytes(12).toString('base64')}';`]),
    text('app/database.example.yml', ['production:', '  url: postgres://localhost:5432/app', '  url_template: postgres://${DB_USER}:${DB_PASSWORD}@${DB_HOST}/app']),
    text('keys/public.pem', ec.publicKey.trimEnd().split('\n')),
    text('README.txt', ['Run npm install, then npm test.', 'Account id: 123456789012']),
    // A binary file (a NUL byte and bytes that are not UTF-8), skipped; and text behind a NUL byte, which must not hide it.
    { path: 'assets/logo.png', content: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), randomBytes(2048)]), planted: [] },
    { path: 'assets/blob.bin', content: Buffer.concat([Buffer.from([0, 1, 2, 3]), Buffer.from(`\nGITHUB_TOKEN=ghp_${randomFrom(ALNUM, 36)}\n`)]), planted: [{ line: 2, family: 'github' }] },
  ];
  return { files, knownValue };
}

/** Precision and recall of a scan over the corpus: a finding is a true positive when it is on a planted line (anywhere in a key file). */
export function score(corpus: Corpus, findings: readonly { file: string; line: number }[]) {
  const planted = corpus.files.flatMap((f) => [...f.planted, ...(f.expectedMisses ?? [])].map((p) => ({ file: f.path, line: p.line, family: p.family, wholeFile: isKeyFile(f) })));
  const onPlanted = (f: { file: string; line: number }, p: (typeof planted)[number]): boolean => f.file === p.file && (p.wholeFile || f.line === p.line);
  const missed = planted.filter((p) => !findings.some((f) => onPlanted(f, p)));
  const falsePositives = findings.filter((f) => !planted.some((p) => onPlanted(f, p)));
  const truePositives = planted.length - missed.length;
  const flagged = truePositives + falsePositives.length;
  return { planted: planted.length, truePositives, falsePositives, missed, precision: flagged === 0 ? 1 : truePositives / flagged, recall: planted.length === 0 ? 1 : truePositives / planted.length };
}

function isKeyFile(file: CorpusFile): boolean {
  return file.planted.some((p) => p.family === 'privatekey');
}
