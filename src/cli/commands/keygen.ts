import { appendAgeKey, defaultAgeKeysFile, generateAgeKey } from '../../keys/age-keygen.js';
import { say, type CliContext } from '../context.js';

/**
 * Adds a new age identity to the keys file decryption will read (--output,
 * else $SOPS_AGE_KEY_FILE, else sops's default path); prints its recipient.
 */
export async function keygenCommand(flags: { output?: string }, ctx: CliContext): Promise<number> {
  const path = flags.output ?? (ctx.env['SOPS_AGE_KEY_FILE'] || defaultAgeKeysFile(ctx.env));
  const key = await generateAgeKey();
  await appendAgeKey(path, key);
  say(ctx, `added a new age identity to ${path}`);
  ctx.stdout.write(`${key.recipient}\n`);
  return 0;
}
