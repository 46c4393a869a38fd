import type { Store } from '../store.js';

export const dotenvStore: Store = {
  name: 'dotenv',
  aliases: ['env'],
  // `.env.*` too, which sops reads as binary: such files are dotenv by intent.
  claimsName: (base) => base === '.env' || base.endsWith('.env') || base.startsWith('.env.'),
  load: async () => (await import('../dotenv.js')).dotenvFormat,
  writeValue: async (node) => Buffer.from((await import('../dotenv.js')).formatDotenvValue(node) + '\n'),
  holdsNestedTrees: false,
  singleValued: false,
  config: { key: 'dotenv' },
  newFileTemplate: '# New secrets file: replace these examples with your own.\nDATABASE_PASSWORD=change-me\nAPI_TOKEN=change-me\n',
  detection: { rank: 2, mayHold: (text) => /^sops_[A-Za-z0-9_]*=/m.test(text) },
};
