/**
 * A private dir left by a killed tsops is removed by the next run only when its
 * owner is certainly gone. A pid alone proves nothing across pid namespaces (a
 * container sharing /tmp or /dev/shm), so each dir carries an owner record:
 * pid, process start time, pid namespace, boot id.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT, sandbox, type Sandbox } from '../support/cli.js';

const EDITOR = `${process.execPath} ${join(ROOT, 'test/support/fake-editor.mjs')}`;
const hasProc = existsSync('/proc/self/ns/pid') && existsSync('/proc/sys/kernel/random/boot_id');
let sb: Sandbox;

beforeAll(async () => {
  sb = await sandbox();
});
afterAll(() => sb.cleanup());

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

it('the next edit removes only dirs whose owner is certainly gone; a pid from another namespace or a live owner is left alone', async () => {
  if (!hasProc) {
    console.log('skipped: owner records need /proc (pid namespace, start time, boot id)');
    return;
  }
  const base = join(sb.dir, 'runtime');
  mkdirSync(base, { mode: 0o700 });
  const pidns = readlinkSync('/proc/self/ns/pid');
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
  const dead = deadPid();
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
  try {
    const live = sleeper.pid!;
    const make = (name: string, owner: object | undefined): string => {
      const dir = join(base, `tsops-edit-${name}`);
      mkdirSync(dir, { mode: 0o700 });
      writeFileSync(join(dir, 'secrets.yaml'), 'password: hunter2\n');
      if (owner) writeFileSync(join(dir, '.tsops-owner'), JSON.stringify(owner));
      return dir;
    };
    const keep = {
      // Same number, another pid namespace: that process may well be editing.
      otherNamespace: make(`${dead}-aaaaaa`, { pid: dead, start: '1', pidns: 'pid:[1]', boot }),
      liveOwner: make(`${live}-cccccc`, { pid: live, start: startTime(live), pidns, boot }),
      noRecord: make(`${dead}-eeeeee`, undefined),
    };
    const remove = {
      gone: make(`${dead}-bbbbbb`, { pid: dead, start: '1', pidns, boot }),
      // The pid runs, but it is a later process that reused the number.
      reused: make(`${live}-dddddd`, { pid: live, start: `${Number(startTime(live)) + 1}`, pidns, boot }),
      earlierBoot: make(`${dead}-ffffff`, { pid: dead, start: '1', pidns: 'pid:[1]', boot: 'an-earlier-boot' }),
    };

    const target = join(sb.dir, 'secrets.enc.yaml');
    const plain = join(sb.dir, 'plain.yaml');
    writeFileSync(plain, 'password: hunter2\n');
    expect(sb.run(['encrypt', '--age', sb.recipient, '--output', target, plain]).status).toBe(0);
    const log = join(sb.dir, 'editor.log');
    const r = sb.run(['edit', target], { env: { XDG_RUNTIME_DIR: base, EDITOR, FAKE_EDITOR_LOG: log, FAKE_EDITOR_ACTIONS: JSON.stringify([{ type: 'none' }]) } });
    expect(r.status).toBe(200);
    // The edit's own dir was in this base, and is gone too.
    expect((JSON.parse(readFileSync(log, 'utf8').trim()) as { path: string }).path.startsWith(base)).toBe(true);
    for (const [what, dir] of Object.entries(keep)) expect(existsSync(join(dir, 'secrets.yaml')), what).toBe(true);
    for (const [what, dir] of Object.entries(remove)) expect(existsSync(dir), what).toBe(false);
  } finally {
    sleeper.kill();
  }
});
