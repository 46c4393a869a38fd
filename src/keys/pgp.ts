import { spawn } from 'node:child_process';
import { nowTimestamp } from '../sops/values.js';
import type { KeyOptions, KeyRecord, KeySpec, MasterKeyKind } from './masterkey.js';

const TIMEOUT_MS = 60_000;

interface GpgResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** PGP through the `gpg` binary, as sops does when it has no keyring of its own (spec §5.2). */
export function createPgpKeyKind(options: KeyOptions = {}): MasterKeyKind {
  const env = options.env ?? process.env;
  const gpg = env['SOPS_GPG_EXEC'] || 'gpg';

  const run = (args: string[], input: Uint8Array): Promise<GpgResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(gpg, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new Error(e.code === 'ENOENT' ? `gpg not found (install GnuPG or set SOPS_GPG_EXEC)` : `could not run gpg: ${e.code ?? e.message}`));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: Buffer.concat(out), stderr: err });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(Buffer.from(input));
    });

  return {
    type: 'pgp',

    async wrap(spec: KeySpec, secret: Uint8Array): Promise<KeyRecord> {
      if (spec.type !== 'pgp') throw new Error(`not a PGP key: ${spec.type}`);
      const fp = spec.fingerprint.replace(/\s+/g, '');
      const args = ['--batch', '--no-default-recipient', '--yes', '--encrypt', '-a', '-r', fp, '--trusted-key', fp.slice(-16), '--no-encrypt-to'];
      const r = await run(args, secret);
      if (r.code !== 0) throw new Error(summarize(r.stderr) || `gpg exited with ${r.code}`);
      return { type: 'pgp', fields: { created_at: nowTimestamp(), enc: r.stdout.toString('utf8').trim(), fp } };
    },

    async unwrap(record: KeyRecord): Promise<Uint8Array> {
      const enc = record.fields['enc'];
      if (typeof enc !== 'string' || !enc.includes('-----BEGIN PGP MESSAGE-----')) throw new Error('malformed PGP enc');
      const r = await run(['--batch', '--quiet', '--yes', '-d'], Buffer.from(enc, 'utf8'));
      if (r.code !== 0 || r.stdout.length === 0) {
        r.stdout.fill(0);
        throw new Error(summarize(r.stderr) || 'gpg could not decrypt the data key');
      }
      return r.stdout;
    },
  };
}

/** gpg's most telling stderr line ("decryption failed: No secret key"). */
function summarize(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const telling = lines.find((l) => /failed|no secret key|not found|no public key|unusable|error/i.test(l)) ?? lines[lines.length - 1] ?? '';
  return telling.slice(0, 200);
}
