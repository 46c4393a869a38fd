/**
 * The legacy plugin inside a real kustomize build: `tsops krm install`, then
 * `kubectl kustomize --enable-alpha-plugins` on a kustomization whose
 * generator is a ksops manifest (encrypted Secret manifests, a dotenv file, a
 * binary file). kubectl's kustomize runs no exec KRM functions (it has no
 * --enable-exec); test/krm/ksops.test.ts feeds the KRM form ResourceLists as
 * kustomize does.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { sandbox, type Sandbox } from '../support/cli.js';
import { encryptText } from '../support/pipeline.js';
import { KUBECTL_KUSTOMIZE } from '../support/tools.js';

const DB_SECRET = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    kustomize.config.k8s.io/needs-hash: "true"\nstringData:\n  password: kustomize-db-password\n';
const TLS_SECRET = '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "stringData": {"tls.key": "kustomize-tls-key"}}\n';
const ENV_TEXT = 'API_TOKEN=kustomize-api-token\nREGION=eu-west-1\n';
const BINARY = Buffer.from([0xca, 0xfe, 0, 0xba, 0xbe, 0xff, 10]);
const SECRETS = ['kustomize-db-password', 'kustomize-tls-key', 'kustomize-api-token'];

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: web:1
          envFrom:
            - secretRef:
                name: db
            - secretRef:
                name: app
`;

const GENERATOR = {
  apiVersion: 'viaduct.ai/v1',
  kind: 'ksops',
  metadata: { name: 'secrets' },
  files: ['./db.enc.yaml', './tls.enc.json'],
  secretFrom: [
    {
      metadata: { name: 'app', labels: { team: 'web' }, annotations: { 'kustomize.config.k8s.io/needs-hash': 'true' } },
      type: 'Opaque',
      envs: ['./app.enc.env'],
      binaryFiles: ['keystore=./keystore.enc.bin'],
    },
  ],
};

describe.skipIf(!KUBECTL_KUSTOMIZE)(`kubectl kustomize --enable-alpha-plugins (kustomize ${KUBECTL_KUSTOMIZE ?? 'absent'}) with the installed plugin`, () => {
  let sb: Sandbox;
  let kdir: string;

  function build(dir: string) {
    const tmp = join(sb.dir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    return spawnSync('kubectl', ['kustomize', '--enable-alpha-plugins', dir], { env: { ...sb.env, TMPDIR: tmp }, encoding: 'utf8', timeout: 120_000 });
  }

  /** Every file under a directory that holds one of the plaintext values. */
  function filesWithSecrets(dir: string): string[] {
    const found: string[] = [];
    for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      const path = join(dir, name);
      if (!statSync(path).isFile()) continue;
      const text = readFileSync(path, 'latin1');
      if (SECRETS.some((s) => text.includes(s))) found.push(path);
    }
    return found;
  }

  beforeAll(async () => {
    sb = await sandbox();
    kdir = join(sb.dir, 'app');
    mkdirSync(kdir);
    writeFileSync(join(kdir, 'db.enc.yaml'), await encryptText('yaml', DB_SECRET, sb.recipient));
    writeFileSync(join(kdir, 'tls.enc.json'), await encryptText('json', TLS_SECRET, sb.recipient));
    writeFileSync(join(kdir, 'app.enc.env'), await encryptText('dotenv', ENV_TEXT, sb.recipient));
    writeFileSync(join(kdir, 'keystore.enc.bin'), await encryptText('binary', BINARY, sb.recipient));
    writeFileSync(join(kdir, 'generator.yaml'), stringify(GENERATOR));
    writeFileSync(join(kdir, 'deployment.yaml'), DEPLOYMENT);
    writeFileSync(join(kdir, 'kustomization.yaml'), 'namespace: prod\nresources:\n  - deployment.yaml\ngenerators:\n  - generator.yaml\n');
    const installed = sb.run(['krm', 'install']);
    expect(installed.status, installed.stderr).toBe(0);
  });

  afterAll(() => sb?.cleanup());

  it('builds: decrypted Secrets, hashed names where asked, references rewritten, and no plaintext left on disk', () => {
    const out = build(kdir);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown });
    const byKind = (kind: string, prefix: string) => docs.find((d) => d.kind === kind && d.metadata.name.startsWith(prefix))!;
    const db = byKind('Secret', 'db-');
    expect(db.metadata.name).toMatch(/^db-[a-z0-9]{10}$/);
    expect(db.metadata.namespace).toBe('prod');
    expect(db['stringData']).toEqual({ password: 'kustomize-db-password' });
    const tls = byKind('Secret', 'tls');
    expect(tls.metadata.name).toBe('tls');
    expect(tls['type']).toBe('kubernetes.io/tls');
    expect(tls['stringData']).toEqual({ 'tls.key': 'kustomize-tls-key' });
    const app = byKind('Secret', 'app-');
    expect(app.metadata.labels).toEqual({ team: 'web' });
    expect(app['stringData']).toEqual({ API_TOKEN: 'kustomize-api-token', REGION: 'eu-west-1' });
    expect(app['data']).toEqual({ keystore: BINARY.toString('base64') });
    const deployment = byKind('Deployment', 'web');
    const refs = JSON.stringify(deployment);
    expect(refs).toContain(`"name":"${db.metadata.name}"`);
    expect(refs).toContain(`"name":"${app.metadata.name}"`);
    expect(filesWithSecrets(sb.dir)).toEqual([]);
  });

  it('in an overlay over a base, behavior: replace swaps the base Secret for the decrypted one', async () => {
    const base = join(sb.dir, 'layers', 'base');
    const overlay = join(sb.dir, 'layers', 'prod');
    mkdirSync(base, { recursive: true });
    mkdirSync(overlay, { recursive: true });
    writeFileSync(join(base, 'secret.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: shared\nstringData:\n  placeholder: change-me\n');
    writeFileSync(join(base, 'kustomization.yaml'), 'resources:\n  - secret.yaml\n');
    writeFileSync(join(overlay, 'shared.enc.env'), await encryptText('dotenv', 'API_TOKEN=kustomize-api-token\n', sb.recipient));
    writeFileSync(join(overlay, 'generator.yaml'), stringify({ ...GENERATOR, files: [], secretFrom: [{ metadata: { name: 'shared', annotations: { 'kustomize.config.k8s.io/behavior': 'replace' } }, envs: ['shared.enc.env'] }] }));
    writeFileSync(join(overlay, 'kustomization.yaml'), 'resources:\n  - ../base\ngenerators:\n  - generator.yaml\n');
    const out = build(overlay);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS());
    expect(docs).toEqual([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shared' }, stringData: { API_TOKEN: 'kustomize-api-token' } }]);
  });

  it('a tampered file fails the build with tsops\'s one-line error naming it, and no secret', () => {
    const bad = join(sb.dir, 'tampered');
    cpSync(kdir, bad, { recursive: true });
    const text = readFileSync(join(bad, 'app.enc.env'), 'utf8');
    const tampered = text.replace(/^(API_TOKEN=ENC\[AES256_GCM,data:)(.)/m, (_, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`);
    expect(tampered).not.toBe(text);
    writeFileSync(join(bad, 'app.enc.env'), tampered);
    const out = build(bad);
    expect(out.status).not.toBe(0);
    expect(out.stdout).toBe('');
    const ours = out.stderr.split('\n').filter((l) => l.includes('tsops:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/tsops: \.\/app\.enc\.env: /);
    for (const s of SECRETS) expect(out.stderr).not.toContain(s);
  });

  it('a planted generator that reaches outside the kustomization fails the build', async () => {
    const planted = join(sb.dir, 'planted');
    mkdirSync(planted);
    writeFileSync(join(planted, 'generator.yaml'), stringify({ ...GENERATOR, files: ['../app/db.enc.yaml'], secretFrom: [] }));
    writeFileSync(join(planted, 'kustomization.yaml'), 'generators:\n  - generator.yaml\n');
    const out = build(planted);
    expect(out.status).not.toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/tsops: \.\.\/app\/db\.enc\.yaml: is outside the kustomization root/);
    expect(out.stderr).not.toContain('kustomize-db-password');
  });
});
