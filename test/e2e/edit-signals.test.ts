/**
 * Every catchable signal that would end tsops while the editor is open
 * removes the plaintext temp file, then ends tsops by that same signal.
 * SIGINT is left out: while the editor runs, Ctrl+C belongs to the editor.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT, sandbox, spawnTsops, type Sandbox } from '../support/cli.js';

const EDITOR = `${process.execPath} ${join(ROOT, 'test/support/fake-editor.mjs')}`;
const SIGNALS = (
  ['SIGHUP', 'SIGTERM', 'SIGQUIT', 'SIGALRM', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGXFSZ', 'SIGPOLL', 'SIGTRAP', 'SIGABRT', 'SIGSYS', 'SIGPWR', 'SIGSTKFLT'] as NodeJS.Signals[]
).filter((s) => s in constants.signals);
let sb: Sandbox;

function editorsOn(temp: string): string[] {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('fake-editor.mjs') && l.includes(temp));
}
let target: string;

beforeAll(async () => {
  sb = await sandbox();
  target = join(sb.dir, 'secrets.enc.yaml');
  const plain = join(sb.dir, 'plain.yaml');
  writeFileSync(plain, 'password: hunter2\n');
  const r = sb.run(['encrypt', '--age', sb.recipient, '--output', target, plain]);
  expect(r.status).toBe(0);
});
afterAll(() => sb.cleanup());

it.runIf(process.platform !== 'win32').each(SIGNALS)('%s while the editor is open: the temp file is removed and tsops ends by that signal', async (signal) => {
  const before = readFileSync(target);
  const log = join(sb.dir, `editor-${signal}.log`);
  const env = { ...sb.env, EDITOR, FAKE_EDITOR_LOG: log, FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'hang' }]) };
  const child = spawnTsops(['edit', target], env, sb.dir);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, sig) => res({ code, signal: sig })));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // The editor has started once it has logged the temp file it was given.
  for (let i = 0; i < 2000 && !(existsSync(log) && readFileSync(log, 'utf8').endsWith('\n')); i++) await new Promise((r) => setTimeout(r, 10));
  const temp = (JSON.parse(readFileSync(log, 'utf8').trim()) as { path: string }).path;
  expect(existsSync(temp)).toBe(true);
  child.kill(signal);
  const result = await exited;
  expect(result.code).toBe(null);
  // SIGPOLL and SIGIO are one signal on Linux; compare numbers.
  expect(constants.signals[result.signal!]).toBe(constants.signals[signal]);
  expect(existsSync(temp)).toBe(false);
  expect(existsSync(join(temp, '..'))).toBe(false);
  expect(readFileSync(target).equals(before)).toBe(true);
  expect(stderr).not.toContain('hunter2');
  // The editor did not outlive tsops with the plaintext it had read.
  for (let i = 0; i < 500 && editorsOn(temp).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(editorsOn(temp)).toEqual([]);
});

it.runIf(process.platform !== 'win32')('SIGINT while the editor is open is the editor\'s: tsops keeps running until a later signal ends it', async () => {
  const log = join(sb.dir, 'editor-SIGINT.log');
  const env = { ...sb.env, EDITOR, FAKE_EDITOR_LOG: log, FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'hang' }]) };
  const child = spawnTsops(['edit', target], env, sb.dir);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, sig) => res({ code, signal: sig })));
  for (let i = 0; i < 2000 && !(existsSync(log) && readFileSync(log, 'utf8').endsWith('\n')); i++) await new Promise((r) => setTimeout(r, 10));
  const temp = (JSON.parse(readFileSync(log, 'utf8').trim()) as { path: string }).path;
  // Signals are handled in the order they arrive: had SIGINT ended tsops, it would be the one reported.
  child.kill('SIGINT');
  child.kill('SIGTERM');
  const result = await exited;
  expect(result.signal).toBe('SIGTERM');
  expect(existsSync(temp)).toBe(false);
});
