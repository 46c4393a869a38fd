import type { Store } from '../store.js';

export const iniStore: Store = {
  name: 'ini',
  aliases: [],
  claimsName: (base) => base.endsWith('.ini'),
  load: async () => (await import('../ini.js')).iniFormat,
  // An INI file has no syntax for a lone value: it is written as YAML writes it.
  writeValue: async (node, indent) => Buffer.from((await import('../yaml.js')).formatYamlValue(node, indent)),
  holdsNestedTrees: false,
  singleValued: false,
  config: { key: 'ini' },
  newFileTemplate: '[database]\nuser     = app\npassword = change-me\n',
  detection: { rank: 3, mayHold: (text) => /^\s*\[sops\]\s*$/m.test(text) },
};
