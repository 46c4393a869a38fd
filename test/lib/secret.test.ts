import { spawnSync } from 'node:child_process';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/secret.js';

const VALUE = 'hunter2-SECRET';

describe('Secret', () => {
  const s = new Secret(VALUE);

  it('reveals its value only through reveal()', () => {
    expect(s.reveal()).toBe(VALUE);
    expect(new Secret(42).reveal()).toBe(42);
  });

  it('prints [redacted] everywhere a value leaks by accident', () => {
    expect(String(s)).toBe('[redacted]');
    expect(`${s}`).toBe('[redacted]');
    expect('' + s).toBe('[redacted]');
    expect(s.toString()).toBe('[redacted]');
    expect(JSON.stringify({ pw: s })).toBe('{"pw":"[redacted]"}');
    expect(inspect(s)).toBe('[redacted]');
    expect(inspect({ pw: s }, { showHidden: true, depth: Infinity })).toBe('{ pw: [redacted] }');
  });

  it('console.log of an object holding it prints [redacted] (a real process, a real console)', () => {
    const script = `
      const { Secret } = await import(${JSON.stringify(new URL('../../src/secret.ts', import.meta.url).pathname)});
      const s = new Secret(${JSON.stringify(VALUE)});
      console.log({ pw: s });
      console.log('%s %o %O %j', s, s, { s }, { s });
      console.error([s], new Map([['k', s]]));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('{ pw: [redacted] }\n[redacted] [redacted] { s: [redacted] } {"s":"[redacted]"}\n');
    expect(r.stderr).toBe("[ [redacted] ] Map(1) { 'k' => [redacted] }\n");
  });

  it('carries no own property holding the value', () => {
    expect(Object.keys(s)).toEqual([]);
    expect(Object.getOwnPropertyNames(s)).toEqual([]);
    expect(JSON.stringify({ ...s })).not.toContain(VALUE);
    expect(JSON.stringify(structuredClone(s))).not.toContain(VALUE);
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('property: no string form contains the value', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 3 }).filter((v) => !'[redacted]'.includes(v) && !'{ pw: [redacted] }'.includes(v)), (v) => {
        const secret = new Secret(v);
        for (const out of [String(secret), `${secret}`, JSON.stringify([secret]), inspect({ pw: secret })]) expect(out).not.toContain(v);
        expect(secret.reveal()).toBe(v);
      }),
    );
  });
});
