// Durations as Rust prints `format!("{:.2?}", duration)` (milli `Progress::accumulated_durations`).
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { formatProgressDuration, ProgressTimer } from '../src/progress.js';

test('formatProgressDuration: largest unit reached, two decimals rounded half up', () => {
  const cases: Array<[number, string]> = [
    [0, '0.00ns'],
    [7, '7.00ns'],
    [999, '999.00ns'],
    [1_000, '1.00µs'],
    [12_345, '12.35µs'],
    [1_234_567, '1.23ms'],
    [999_999, '1000.00µs'],
    [1_500_000_000, '1.50s'],
    [61_000_000_000, '61.00s'],
  ];
  for (const [ns, text] of cases) assert.equal(formatProgressDuration(ns), text, String(ns));
});

test('ProgressTimer: steps in the order they first ran, repeated steps accumulated', () => {
  const t = new ProgressTimer();
  t.add('search', 1_000);
  t.add('search > format', 500);
  t.add('search', 2_000);
  assert.deepEqual(t.trace(), { search: '3.00µs', 'search > format': '500.00ns' });
  assert.equal(t.step('x', () => 42), 42);
  assert.ok('x' in t.trace());
});

test('formatSize: raw bytes, or byte_unit `{:#.2}` of the appropriate binary unit', async () => {
  const { formatSize } = await import('../src/stats.js');
  assert.equal(formatSize(10_000, 'raw'), 10_000);
  const cases: Array<[number, string]> = [
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [10_000, '9.77 KiB'],
    [1536, '1.5 KiB'],
    [5 * 1024 ** 2, '5 MiB'],
    [3 * 1024 ** 3 + 1, '3 GiB'],
  ];
  for (const [n, text] of cases) assert.equal(formatSize(n, 'human'), text, String(n));
});
