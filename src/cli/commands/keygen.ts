import { PERSONAL_KIND } from '../../keys/registry.js';
import { say, type CliContext } from '../context.js';

/**
 * Adds a new age identity to the keys file decryption will read (--output,
 * else $SOPS_AGE_KEY_FILE, else sops's default path); prints its recipient.
 */
export async function keygenCommand(flags: { output?: string }, ctx: CliContext): Promise<number> {
  const path = flags.output ?? PERSONAL_KIND.personal.keysFile(ctx.env);
  const recipient = await PERSONAL_KIND.personal.addIdentity(path);
  say(ctx, `added a new age identity to ${path}`);
  ctx.stdout.write(`${recipient}\n`);
  return 0;
}
