import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { auditConfigPath, readAuditConfig, SYSTEM_AUDIT_CONFIG } from '../../src/audit/config.js';
import { describeServer, safeReason } from '../../src/audit/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'tsops-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('audit config', () => {
  it('is sops\'s system file unless TSOPS_AUDIT_CONFIG names another (relative to the working directory)', () => {
    expect(auditConfigPath({}, '/w')).toBe(SYSTEM_AUDIT_CONFIG);
    expect(auditConfigPath({ TSOPS_AUDIT_CONFIG: '' }, '/w')).toBe(SYSTEM_AUDIT_CONFIG);
    expect(auditConfigPath({ TSOPS_AUDIT_CONFIG: 'a.yaml' }, '/w')).toBe('/w/a.yaml');
    expect(auditConfigPath({ TSOPS_AUDIT_CONFIG: '/etc/x.yaml' }, '/w')).toBe('/etc/x.yaml');
  });

  it('reads sops\'s postgres list and the tsops file list; an absent file is no config', async () => {
    expect(await readAuditConfig(join(dir, 'absent.yaml'))).toBeUndefined();
    const path = config('both.yaml', 'backends:\n  postgres:\n    - connection_string: "postgres://a@h/db"\n    - connection_string: "host=h2 user=b"\n  file:\n    - path: /var/log/a.jsonl\n');
    expect(await readAuditConfig(path)).toEqual({ path, postgres: ['postgres://a@h/db', 'host=h2 user=b'], files: ['/var/log/a.jsonl'] });
    expect(await readAuditConfig(config('empty.yaml', ''))).toMatchObject({ postgres: [], files: [] });
  });

  it('rejects wrong shapes with a reason that quotes no value', async () => {
    await expect(readAuditConfig(config('map.yaml', 'backends:\n  postgres:\n    connection_string: "postgres://u:Secret1@h/db"\n'))).rejects.toThrow(/backends\.postgres must be a list/);
    await expect(readAuditConfig(config('num.yaml', 'backends:\n  file:\n    - path: 3\n'))).rejects.toThrow(/backends\.file\[0\]\.path must be a non-empty string/);
    try {
      await readAuditConfig(config('bad.yaml', 'backends:\n  postgres:\n    - connection_string: "postgres://u:Secret1@h/db\n x: [\n'));
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/is not valid YAML \(line \d+\)$/);
      expect((e as Error).message).not.toContain('Secret1');
    }
  });
});

describe('postgres backend messages', () => {
  it('names the server without the password, in both connection string forms', () => {
    expect(describeServer('postgres://sops:pw@db.internal:5433/audit?sslmode=require')).toBe('postgres sops@db.internal:5433/audit');
    expect(describeServer('postgresql://db.internal/audit')).toBe('postgres db.internal/audit');
    expect(describeServer("host=db.internal port=5433 user=sops password='p w' dbname=audit")).toBe('postgres sops@db.internal:5433/audit');
  });

  // A password of asterisks cannot be told from the mask, so the property leaves `*` out.
  it('masks the password wherever a driver message repeats it, on one line', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }).filter((p) => !/[\s'\\*]/.test(p)), (password) => {
        for (const url of [`postgres://u:${encodeURIComponent(password)}@h/db`, `host=h user=u password=${password}`, `postgres://u@h/db?password=${encodeURIComponent(password)}`]) {
          const reason = safeReason(new Error(`auth failed for ${password}\nsecond line ${password}`), url);
          expect(reason).not.toContain(password);
          expect(reason).not.toContain('\n');
        }
      }),
    );
  });
});
