import { TsopsError } from '../../errors.js';
import { nowTimestamp } from '../../values.js';
import type { KeyOptions, KeyRecord, KeySpec, MasterKeyKind } from '../masterkey.js';

const GPG_TIMEOUT_MS = 60_000;
const NOT_FOUND = 'gpg not found (install GnuPG or set SOPS_GPG_EXEC)';

interface GpgResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** PGP through the `gpg` binary, as sops does when it has no keyring of its own (docs/format.md#pgp). */
export function createPgpKeyKind(options: KeyOptions = {}): MasterKeyKind {
  const env = options.env ?? process.env;
  const gpg = env['SOPS_GPG_EXEC'] || 'gpg';
  const run = (args: string[], input: Uint8Array): Promise<GpgResult> => runGpg(gpg, args, input, env);

  return {
    type: 'pgp',

    async wrap(spec: KeySpec, secret: Uint8Array): Promise<KeyRecord> {
      if (spec.type !== 'pgp') throw new TsopsError(`not a PGP key: ${spec.type}`);
      const fp = spec.fingerprint.replace(/ /g, '');
      if (fp === '') throw new TsopsError('empty PGP fingerprint');
      const args = ['--batch', '--no-default-recipient', '--yes', '--encrypt', '-a', '-r', fp, '--trusted-key', fp.slice(-16), '--no-encrypt-to'];
      const result = await run(args, secret);
      const enc = result.stdout.toString('utf8').trim();
      if (result.code !== 0 || enc === '') throw new TsopsError(`gpg could not encrypt: ${summarize(result.stderr) || exitText(result.code)}`);
      return { type: 'pgp', fields: { created_at: nowTimestamp(), enc, fp } };
    },

    async unwrap(record: KeyRecord): Promise<Uint8Array> {
      const enc = record.fields['enc'];
      if (typeof enc !== 'string' || !enc.includes('-----BEGIN PGP MESSAGE-----')) throw new TsopsError('malformed PGP enc');
      // --batch keeps gpg off the terminal; the agent's pinentry can still ask for a passphrase.
      const result = await run(['--batch', '--quiet', '--yes', '-d'], Buffer.from(enc, 'utf8'));
      if (result.code !== 0 || result.stdout.length === 0) {
        result.stdout.fill(0);
        const why = summarize(result.stderr) || (result.code === 0 ? 'gpg returned an empty data key' : exitText(result.code));
        throw new TsopsError(why);
      }
      return result.stdout;
    },
  };
}

function exitText(code: number | null): string {
  return code === null ? 'gpg was killed' : `gpg exited with status ${code}`;
}

/** Runs gpg without a shell, secret input on stdin, and collects its output as bytes. */
async function runGpg(gpg: string, args: string[], input: Uint8Array, env: NodeJS.ProcessEnv): Promise<GpgResult> {
  // Loaded on use: age-only runs never pay for child_process.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(gpg, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    const stdin = Buffer.from(input);
    const wipe = (): void => {
      stdin.fill(0);
      for (const c of chunks) c.fill(0);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, GPG_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      wipe();
      reject(new TsopsError(e.code === 'ENOENT' ? NOT_FOUND : `could not run gpg: ${e.code ?? 'error'}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(chunks);
      wipe();
      if (timedOut) {
        stdout.fill(0);
        reject(new TsopsError(`gpg did not finish within ${GPG_TIMEOUT_MS / 1000} s`));
        return;
      }
      resolve({ code, stdout, stderr });
    });
    // gpg may exit before reading all of stdin (bad arguments); the exit status tells why.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

/** gpg's most telling stderr line, e.g. "gpg: decryption failed: No secret key". */
export function summarize(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const telling =
    lines.find((l) => /failed|no secret key|no public key|not found/i.test(l)) ??
    lines.find((l) => /unusable|skipped|error|invalid/i.test(l)) ??
    lines[lines.length - 1] ??
    '';
  return telling.replace(/[\x00-\x1f\x7f]/g, '').slice(0, 200);
}
