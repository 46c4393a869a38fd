/**
 * `tsops krm` and `tsops-krm` driven like kustomize drives ksops: a manifest
 * path (legacy exec plugin, run in the kustomization's directory) or a
 * ResourceList on standard input (KRM function), and like an attacker who
 * plants the manifest.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { keyAndPath, readManifest } from '../../src/krm/ksops.js';
import { pluginPath, pluginScript } from '../../src/krm/install.js';
import { ROOT, sandbox, type Sandbox } from '../support/cli.js';
import { encryptText } from '../support/pipeline.js';

const KRM_BIN = join(ROOT, 'bin', 'tsops-krm.cjs');
const SECRET_MANIFEST = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    kustomize.config.k8s.io/needs-hash: "true"\nstringData:\n  password: hunter2-manifest\n';
const CONFIG_TEXT = 'listen = 0.0.0.0\ntoken = s3cr3t-config-token\n';
const ENV_TEXT = 'API_KEY=env-api-key-value\nDB_USER=admin\n';
const BINARY = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10, 13, 0x7f, 42]);
const SECRETS = ['hunter2-manifest', 's3cr3t-config-token', 'env-api-key-value'];

let sb: Sandbox;
/** The kustomization directory, with encrypted files of every kind ksops reads. */
let kdir: string;

function generatorYaml(body: Record<string, unknown>): string {
  return stringify({ apiVersion: 'viaduct.ai/v1', kind: 'ksops', metadata: { name: 'gen', annotations: { 'config.kubernetes.io/function': 'exec:\n  path: tsops-krm\n' } }, ...body });
}

const FULL = {
  files: ['./secret.enc.yaml'],
  secretFrom: [
    {
      // The config.kubernetes.io annotations steer KRM tools (kpt writes to `path`): dropped like uid.
      metadata: { name: 'mixed', namespace: 'apps', labels: { app: 'web' }, annotations: { 'kustomize.config.k8s.io/needs-hash': 'false', 'config.kubernetes.io/path': '../../etc/x.yaml', 'internal.config.kubernetes.io/path': 'x.yaml' }, uid: 'dropped' },
      type: 'Opaque',
      files: ['./config.enc.ini', 'app.conf=config.enc.ini'],
      binaryFiles: ['blob.enc.bin', 'raw=./blob.enc.bin'],
      envs: ['./app.enc.env'],
    },
  ],
};

function runKrm(args: string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv; bin?: string } = {}) {
  const bin = options.bin ?? join(ROOT, 'bin', 'tsops.cjs');
  const argv = options.bin ? args : ['krm', ...args];
  return spawnSync(process.execPath, [bin, ...argv], { cwd: options.cwd ?? kdir, env: { ...sb.env, ...options.env }, input: options.input ?? '', encoding: 'utf8', timeout: 60_000 });
}

function expectOneLineError(out: { status: number | null; stderr: string; stdout: string }, file: string): void {
  expect(out.status).not.toBe(0);
  expect(out.stdout).toBe('');
  const lines = out.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^tsops: /);
  expect(lines[0]).toContain(file);
  for (const secret of SECRETS) expect(out.stderr).not.toContain(secret);
  expect(out.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  sb = await sandbox();
  kdir = join(sb.dir, 'repo', 'overlay');
  mkdirSync(kdir, { recursive: true });
  writeFileSync(join(kdir, 'secret.enc.yaml'), await encryptText('yaml', SECRET_MANIFEST, sb.recipient));
  writeFileSync(join(kdir, 'config.enc.ini'), await encryptText('binary', CONFIG_TEXT, sb.recipient));
  writeFileSync(join(kdir, 'app.enc.env'), await encryptText('dotenv', ENV_TEXT, sb.recipient));
  writeFileSync(join(kdir, 'blob.enc.bin'), await encryptText('binary', BINARY, sb.recipient));
  writeFileSync(join(kdir, 'gen.yaml'), generatorYaml(FULL));
});

afterAll(() => sb.cleanup());

describe('legacy exec plugin: tsops krm MANIFEST', () => {
  it('prints the decrypted manifests, then one Secret per secretFrom, as ksops does', () => {
    const out = runKrm(['gen.yaml']);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS());
    expect(docs).toHaveLength(2);
    expect(docs[0]).toEqual(parse(SECRET_MANIFEST));
    expect(docs[1]).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'mixed', namespace: 'apps', labels: { app: 'web' }, annotations: { 'kustomize.config.k8s.io/needs-hash': 'false' } },
      type: 'Opaque',
      stringData: { 'config.enc.ini': CONFIG_TEXT, 'app.conf': CONFIG_TEXT, API_KEY: 'env-api-key-value', DB_USER: 'admin' },
      data: { 'blob.enc.bin': BINARY.toString('base64'), raw: BINARY.toString('base64') },
    });
  });

  it('keeps the decrypted manifest as the file has it (comments, layout), and leaves out type, stringData and data when empty', async () => {
    writeFileSync(join(kdir, 'commented.enc.yaml'), await encryptText('yaml', '# the app database\napiVersion: v1\nkind: Secret\nmetadata:\n  name: c\nstringData:\n  k: v # inline\n', sb.recipient));
    writeFileSync(join(kdir, 'only-bin.yaml'), generatorYaml({ files: ['commented.enc.yaml'], secretFrom: [{ metadata: { name: 'b' }, binaryFiles: ['blob.enc.bin'] }] }));
    const out = runKrm(['only-bin.yaml']);
    expect(out.status).toBe(0);
    expect(out.stdout.startsWith('# the app database\napiVersion: v1\n')).toBe(true);
    const docs = parseAllDocuments(out.stdout).map((d) => d.toJS());
    expect(docs[1]).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b' }, data: { 'blob.enc.bin': BINARY.toString('base64') } });
  });

  it('tsops-krm is the same plugin under a name kustomize can run', () => {
    const viaBin = runKrm(['gen.yaml'], { bin: KRM_BIN });
    expect(viaBin.status).toBe(0);
    expect(viaBin.stdout).toBe(runKrm(['gen.yaml']).stdout);
  });

  it('a manifest with neither files nor secretFrom is refused, as ksops refuses it', () => {
    writeFileSync(join(kdir, 'empty.yaml'), generatorYaml({}));
    expectOneLineError(runKrm(['empty.yaml']), 'empty.yaml');
  });

  it('a tampered file fails the whole run with one line naming it, no secret and nothing on stdout', () => {
    const good = readFileSync(join(kdir, 'secret.enc.yaml'), 'utf8');
    const tampered = good.replace(/(password: ENC\[AES256_GCM,data:)(.)/, (_, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`);
    expect(tampered).not.toBe(good);
    writeFileSync(join(kdir, 'tampered.enc.yaml'), tampered);
    writeFileSync(join(kdir, 'tampered-gen.yaml'), generatorYaml({ ...FULL, files: ['./tampered.enc.yaml'] }));
    expectOneLineError(runKrm(['tampered-gen.yaml']), 'tampered.enc.yaml');
  });

  it('a file that is not encrypted is refused, not passed through', () => {
    writeFileSync(join(kdir, 'plain.yaml'), SECRET_MANIFEST);
    writeFileSync(join(kdir, 'plain-gen.yaml'), generatorYaml({ files: ['plain.yaml'] }));
    const out = runKrm(['plain-gen.yaml']);
    expect(out.status).not.toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(out.stderr).toContain('plain.yaml');
  });

  it('an encrypted dotenv or binary file under files (not a manifest) is refused', () => {
    writeFileSync(join(kdir, 'env-as-manifest.yaml'), generatorYaml({ files: ['app.enc.env'] }));
    expectOneLineError(runKrm(['env-as-manifest.yaml']), 'app.enc.env');
  });

  it('binary content listed under secretFrom.files is refused (it belongs under binaryFiles)', () => {
    writeFileSync(join(kdir, 'bin-as-text.yaml'), generatorYaml({ secretFrom: [{ metadata: { name: 'x' }, files: ['blob.enc.bin'] }] }));
    expectOneLineError(runKrm(['bin-as-text.yaml']), 'blob.enc.bin');
  });

  it('with no key the error names the file and the exit code is sops\'s', () => {
    const out = runKrm(['gen.yaml'], { env: { SOPS_AGE_KEY_FILE: join(sb.dir, 'no-such-keys.txt') } });
    expectOneLineError(out, 'secret.enc.yaml');
    expect(out.status).toBe(128);
  });

  it('a manifest that is not YAML is refused on one line', () => {
    writeFileSync(join(kdir, 'broken.yaml'), 'files: [a\n  b: {\n');
    expectOneLineError(runKrm(['broken.yaml']), 'broken.yaml');
  });

  it('extra arguments and a terminal-less call without input are usage errors', () => {
    expect(runKrm(['gen.yaml', 'more']).status).not.toBe(0);
    expect(runKrm([]).status).not.toBe(0);
  });
});

describe('hostile manifests: nothing outside the kustomization is read', () => {
  let outside: string;
  beforeAll(async () => {
    // An encrypted file the user can decrypt, elsewhere on the machine: the prize for a planted manifest.
    outside = join(sb.dir, 'elsewhere');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'other.enc.yaml'), await encryptText('yaml', SECRET_MANIFEST, sb.recipient));
    symlinkSync(join(outside, 'other.enc.yaml'), join(kdir, 'link.enc.yaml'));
    symlinkSync(outside, join(kdir, 'linkdir'));
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['an absolute path', { files: ['/etc/ssl/secret.enc.yaml'] }, '/etc/ssl/secret.enc.yaml'],
    ['.. out of the root', { files: ['../../elsewhere/other.enc.yaml'] }, '../../elsewhere/other.enc.yaml'],
    ['.. hidden inside a path', { secretFrom: [{ metadata: { name: 'x' }, binaryFiles: ['k=./sub/../../../elsewhere/other.enc.yaml'] }] }, 'elsewhere/other.enc.yaml'],
    ['a link to a file outside', { secretFrom: [{ metadata: { name: 'x' }, files: ['link.enc.yaml'] }] }, 'link.enc.yaml'],
    ['a path through a linked directory', { envs: [], files: ['linkdir/other.enc.yaml'] }, 'linkdir/other.enc.yaml'],
    ['a device', { secretFrom: [{ metadata: { name: 'x' }, binaryFiles: ['/dev/zero'] }] }, '/dev/zero'],
  ];
  for (const [what, body, named] of cases) {
    it(`refuses ${what}`, () => {
      writeFileSync(join(kdir, 'hostile.yaml'), generatorYaml(body));
      const out = runKrm(['hostile.yaml']);
      expectOneLineError(out, named);
      expect(out.stderr).toMatch(/absolute paths are refused|outside the kustomization root/);
    });
  }

  it('refuses to emit a decrypted file that is no Kubernetes resource (kustomize would quote it in its error)', async () => {
    writeFileSync(join(kdir, 'values.enc.yaml'), await encryptText('yaml', 'db:\n  password: hunter2-values-file\n', sb.recipient));
    writeFileSync(join(kdir, 'hostile.yaml'), generatorYaml({ files: ['values.enc.yaml'] }));
    const out = runKrm(['hostile.yaml']);
    expectOneLineError(out, 'values.enc.yaml');
    expect(out.stderr).not.toContain('hunter2-values-file');
    expect(out.stderr).toContain('must decrypt to Kubernetes resources');
  });

  it('refuses a directory and a missing file with one line each', () => {
    mkdirSync(join(kdir, 'adir'), { recursive: true });
    writeFileSync(join(kdir, 'hostile.yaml'), generatorYaml({ files: ['adir'] }));
    expectOneLineError(runKrm(['hostile.yaml']), 'adir');
    writeFileSync(join(kdir, 'hostile.yaml'), generatorYaml({ files: ['missing.enc.yaml'] }));
    expectOneLineError(runKrm(['hostile.yaml']), 'missing.enc.yaml');
  });

  it.skipIf(process.platform === 'win32')('refuses a FIFO inside the root at once instead of waiting for a writer', () => {
    spawnSync('mkfifo', [join(kdir, 'pipe.enc.yaml')]);
    writeFileSync(join(kdir, 'hostile.yaml'), generatorYaml({ secretFrom: [{ metadata: { name: 'x' }, files: ['pipe.enc.yaml'] }] }));
    const out = runKrm(['hostile.yaml']);
    expect(out.signal).toBeNull();
    expectOneLineError(out, 'pipe.enc.yaml');
    expect(out.stderr).toContain('is not a regular file');
  });

  it('TSOPS_KRM_ROOT, set by the user, widens the root to a directory above the kustomization, and no further', () => {
    writeFileSync(join(sb.dir, 'repo', 'base.enc.yaml'), readFileSync(join(kdir, 'secret.enc.yaml')));
    writeFileSync(join(kdir, 'up.yaml'), generatorYaml({ files: ['../base.enc.yaml'] }));
    expectOneLineError(runKrm(['up.yaml']), '../base.enc.yaml');
    const widened = runKrm(['up.yaml'], { env: { TSOPS_KRM_ROOT: join(sb.dir, 'repo') } });
    expect(widened.stderr).toBe('');
    expect(parse(widened.stdout)).toEqual(parse(SECRET_MANIFEST));
    writeFileSync(join(kdir, 'hostile.yaml'), generatorYaml({ files: ['../../elsewhere/other.enc.yaml'] }));
    expectOneLineError(runKrm(['hostile.yaml'], { env: { TSOPS_KRM_ROOT: join(sb.dir, 'repo') } }), 'elsewhere/other.enc.yaml');
    // A root that does not hold the kustomization is a mistake, not a wider root.
    expect(runKrm(['gen.yaml'], { env: { TSOPS_KRM_ROOT: outside } }).status).not.toBe(0);
  });

  it('control characters in a planted path reach the terminal escaped', () => {
    writeFileSync(join(kdir, 'hostile.yaml'), generatorYaml({ files: ['\u001b]0;owned\u0007x.enc.yaml'] }));
    const out = runKrm(['hostile.yaml']);
    expect(out.status).not.toBe(0);
    expect(out.stderr).not.toContain('\u001b');
    expect(out.stderr).toContain('\\x1b');
  });
});

describe('KRM function: a ResourceList on standard input', () => {
  function resourceList(items: unknown[], functionConfig?: unknown): string {
    return stringify({ apiVersion: 'config.kubernetes.io/v1', kind: 'ResourceList', items, ...(functionConfig === undefined ? {} : { functionConfig }) });
  }
  const manifest = (): Record<string, unknown> => parse(generatorYaml(FULL)) as Record<string, unknown>;

  it('as kustomize sends a generator (its config as functionConfig and as the one item): the item becomes the resources', () => {
    // kustomize adds its bookkeeping annotations to the item.
    const item = manifest();
    Object.assign((item['metadata'] as { annotations: Record<string, string> }).annotations, { 'config.kubernetes.io/local-config': 'true', 'config.kubernetes.io/index': '0' });
    const out = runKrm([], { input: resourceList([item], manifest()) });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const list = parse(out.stdout) as { apiVersion: string; kind: string; items: Record<string, unknown>[] };
    expect(list.apiVersion).toBe('config.kubernetes.io/v1');
    expect(list.kind).toBe('ResourceList');
    expect(list.items).toHaveLength(2);
    expect(list.items[0]).toEqual(parse(SECRET_MANIFEST));
    expect(list.items[1]).toMatchObject({ kind: 'Secret', metadata: { name: 'mixed' }, stringData: { API_KEY: 'env-api-key-value' }, data: { raw: BINARY.toString('base64') } });
  });

  it('with only a functionConfig (as kpt sends it), other items pass through untouched', () => {
    const other = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep' }, data: { a: '1' } };
    const out = runKrm([], { input: resourceList([other], manifest()) });
    expect(out.status).toBe(0);
    const list = parse(out.stdout) as { items: unknown[] };
    expect(list.items[0]).toEqual(other);
    expect(list.items).toHaveLength(3);
  });

  it('through tsops-krm, the exec path a kustomization names', () => {
    const out = runKrm([], { input: resourceList([manifest()], manifest()), bin: KRM_BIN });
    expect(out.status).toBe(0);
    expect((parse(out.stdout) as { items: unknown[] }).items).toHaveLength(2);
  });

  it('a ResourceList without a ksops manifest, or not a ResourceList, is refused on one line', () => {
    const notKsops = runKrm([], { input: resourceList([], { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }) });
    expect(notKsops.status).not.toBe(0);
    expect(notKsops.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(runKrm([], { input: 'apiVersion: v1\nkind: Secret\n' }).status).not.toBe(0);
  });

  it('a tampered file fails with one line and prints no partial ResourceList', () => {
    const out = runKrm([], { input: resourceList([parse(generatorYaml({ ...FULL, files: ['./tampered.enc.yaml'] }))]) });
    expectOneLineError(out, 'tampered.enc.yaml');
  });

  it('a hostile path in a function config is refused too', () => {
    const out = runKrm([], { input: resourceList([], parse(generatorYaml({ files: ['../../elsewhere/other.enc.yaml'] }))) });
    expectOneLineError(out, 'elsewhere/other.enc.yaml');
  });
});

describe('tsops krm install', () => {
  it('writes the legacy plugin under $XDG_CONFIG_HOME, executable, running this tsops', () => {
    const out = sb.run(['krm', 'install']);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const target = join(sb.env['XDG_CONFIG_HOME']!, 'kustomize', 'plugin', 'viaduct.ai', 'v1', 'ksops', 'ksops');
    expect(out.stdout).toContain(target);
    expect(statSync(target).mode & 0o111).not.toBe(0);
    // The plugin works as kustomize calls it: the manifest path, in the kustomization's directory.
    const run = spawnSync(target, ['gen.yaml'], { cwd: kdir, env: sb.env, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(runKrm(['gen.yaml']).stdout);
    // Installing again replaces its own file.
    expect(sb.run(['krm', 'install']).status).toBe(0);
  });

  it('does not overwrite a plugin it did not write (ksops itself) without --force', () => {
    const home = join(sb.dir, 'plugins');
    const target = join(home, 'viaduct.ai', 'v1', 'ksops', 'ksops');
    mkdirSync(join(home, 'viaduct.ai', 'v1', 'ksops'), { recursive: true });
    writeFileSync(target, '\u007fELF not ours');
    chmodSync(target, 0o755);
    const refused = sb.run(['krm', 'install'], { env: { KUSTOMIZE_PLUGIN_HOME: home } });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(readFileSync(target, 'utf8')).toBe('\u007fELF not ours');
    expect(sb.run(['krm', 'install', '--force'], { env: { KUSTOMIZE_PLUGIN_HOME: home } }).status).toBe(0);
    expect(readFileSync(target, 'utf8')).toContain('tsops-krm.cjs');
  });

  it('finds the plugin directory as kustomize does', () => {
    expect(pluginPath({ KUSTOMIZE_PLUGIN_HOME: '/p' }, '/h')).toBe('/p/viaduct.ai/v1/ksops/ksops');
    expect(pluginPath({ XDG_CONFIG_HOME: '/x' }, '/h')).toBe('/x/kustomize/plugin/viaduct.ai/v1/ksops/ksops');
    expect(pluginPath({}, '/h')).toBe('/h/.config/kustomize/plugin/viaduct.ai/v1/ksops/ksops');
    expect(pluginPath({ XDG_CONFIG_HOME: 'relative' }, '/h')).toBe('/h/.config/kustomize/plugin/viaduct.ai/v1/ksops/ksops');
  });

  it('quotes paths in the script so a directory name cannot inject a command', () => {
    const script = pluginScript("/opt/no'de $(touch x)", join(ROOT, 'bin', 'tsops.cjs'));
    expect(script).toContain(`'/opt/no'\\''de $(touch x)'`);
    expect(script.split('\n')[0]).toBe('#!/bin/sh');
  });

  it('refuses on Windows, naming the KRM form instead', async () => {
    const { installPlugin } = await import('../../src/krm/install.js');
    const home = join(sb.dir, 'windows-home');
    await expect(installPlugin({ env: {}, home, force: false, platform: 'win32' })).rejects.toThrow(/KRM function form/);
    expect(existsSync(home)).toBe(false);
  });
});

describe('manifest fields', () => {
  it('file specs: PATH keys by base name, KEY=PATH by key, more than one = is refused', () => {
    expect(keyAndPath('./dir/a.enc.txt')).toEqual({ key: 'a.enc.txt', path: './dir/a.enc.txt' });
    expect(keyAndPath('k=./a')).toEqual({ key: 'k', path: './a' });
    expect(() => keyAndPath('a=b=c')).toThrow();
    expect(() => keyAndPath('=b')).toThrow();
  });

  it('keeps only name, namespace, labels and annotations of the metadata, as ksops does', () => {
    const m = readManifest({ secretFrom: [{ metadata: { name: 'n', generateName: 'g', ownerReferences: [] }, files: [] }] }, 'm');
    expect(m.secretFrom[0]!.metadata).toEqual({ name: 'n' });
  });

  it('wrong field types are refused', () => {
    expect(() => readManifest({ files: 'a' }, 'm')).toThrow(/list of paths/);
    expect(() => readManifest({ secretFrom: {} }, 'm')).toThrow(/must be a list/);
    expect(() => readManifest({ secretFrom: [{ type: 3 }] }, 'm')).toThrow(/type/);
  });
});
