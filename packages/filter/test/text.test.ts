import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { escapeDebug, parseFiniteFloat, rustFloat, spanLine } from '../src/text.js';

describe('Rust renderings', () => {
  it('f64 Display: shortest digits, no exponent', () => {
    const cases: [number, string][] = [
      [90, '90'],
      [-110, '-110'],
      [-90.0000001, '-90.0000001'],
      [1e21, '1000000000000000000000'],
      [1.5e-7, '0.00000015'],
      [123.456e20, '12345600000000000000000'],
      [-0, '-0'],
      [Infinity, 'inf'],
    ];
    for (const [x, s] of cases) assert.equal(rustFloat(x), s, String(x));
  });

  it('str::escape_debug', () => {
    assert.equal(escapeDebug(`a'b"c\\d\ne\tf`), `a\\'b\\"c\\\\d\\ne\\tf`);
    assert.equal(escapeDebug('x\u0007y\u00ad'), 'x\\u{7}y\\u{ad}');
    assert.equal(escapeDebug('é🐻'), 'é🐻');
  });

  it('f64 parsing accepts what Rust accepts, finite only', () => {
    for (const [t, n] of [
      ['1', 1],
      ['+1.5', 1.5],
      ['.5', 0.5],
      ['5.', 5],
      ['-1e3', -1000],
    ] as const) {
      assert.equal(parseFiniteFloat(t), n, t);
    }
    for (const t of ['', ' 1', '1 ', '0x10', '1_0', 'inf', 'NaN', '1e999', 'abc']) assert.equal(parseFiniteFloat(t), null, t);
  });

  it('span line: columns in characters from the start of the line', () => {
    assert.equal(spanLine('ab = 🐻 x', 5, 7), '6:7 ab = 🐻 x');
    assert.equal(spanLine('a\nbc = d', 2, 4), '1:3 a\nbc = d');
  });
});
