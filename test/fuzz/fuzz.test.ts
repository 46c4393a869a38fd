import { expect, it } from 'vitest';
import { runFuzz } from './harness.js';

it('a short seeded fuzz run of every parser: no crash, no hang', async () => {
  const reports = await runFuzz(Number(process.env['TSOPS_FUZZ_SEED'] ?? 1), Number(process.env['TSOPS_FUZZ_INPUTS'] ?? 150));
  for (const r of reports) console.log(`fuzz ${r.parser}: ${r.inputs} inputs, ${r.crashes.length} crashes, ${r.hangs} hangs`);
  const crashes = reports.flatMap((r) => r.crashes.map((c) => ({ parser: r.parser, ...c })));
  expect(crashes.slice(0, 5)).toEqual([]);
  expect(reports.reduce((n, r) => n + r.hangs, 0)).toBe(0);
}, 300_000);
