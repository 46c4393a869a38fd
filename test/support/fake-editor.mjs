#!/usr/bin/env node
// A scripted $EDITOR for end-to-end tests. Each invocation takes the next
// action from the JSON list in FAKE_EDITOR_ACTIONS and records what it saw
// (the temp file's path, its mode and its directory's mode) in FAKE_EDITOR_LOG.
import { appendFileSync, chmodSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';

const file = process.argv[process.argv.length - 1];
const log = process.env.FAKE_EDITOR_LOG;
const actions = JSON.parse(process.env.FAKE_EDITOR_ACTIONS ?? '[]');
const counter = `${log}.count`;
const n = existsSync(counter) ? Number(readFileSync(counter, 'utf8')) : 0;
writeFileSync(counter, String(n + 1));
const action = actions[Math.min(n, actions.length - 1)] ?? { type: 'none' };

const st = statSync(file);
appendFileSync(log, JSON.stringify({ path: file, mode: st.mode & 0o777, dirMode: statSync(dirname(file)).mode & 0o777, action: action.type }) + '\n');

const text = readFileSync(file, 'utf8');
switch (action.type) {
  case 'none':
    break;
  case 'replace':
    if (!text.includes(action.from)) process.exit(90);
    writeFileSync(file, text.replace(action.from, action.to));
    // Then takes the write permission away from a directory, as a change made while the editor is open.
    if (action.chmod) chmodSync(action.chmod.path, action.chmod.mode);
    break;
  case 'replace-each': {
    let out = text;
    for (const [from, to] of action.pairs) {
      if (!out.includes(from)) process.exit(90);
      out = out.replace(from, to);
    }
    writeFileSync(file, out);
    break;
  }
  case 'append':
    writeFileSync(file, text + action.text);
    break;
  case 'write':
    writeFileSync(file, action.content);
    break;
  case 'crash':
    process.exit(action.code ?? 3);
    break;
  case 'touch-target':
    writeFileSync(action.target, readFileSync(action.target, 'utf8') + '\n');
    writeFileSync(file, text.replace(action.from, action.to));
    break;
  case 'hang':
    setTimeout(() => {}, 60_000);
    break;
  default:
    process.exit(91);
}
