/**
 * UUID parsing with the `uuid` crate's accepted forms and error texts (Meilisearch shows them in
 * `invalid_api_key_uid` errors). Written by hand because the texts are the point: no JavaScript
 * library reproduces them.
 */

const HEX = /^[0-9a-fA-F]$/;
const GROUP_LENGTHS = [8, 4, 4, 4, 12];
const BLOCK_STARTS = [0, 9, 14, 19, 24];

/** Parses a UUID (simple, hyphenated, `{braced}` or `urn:uuid:`) to lowercase hyphenated form, or returns the error text. */
export function parseUuid(input: string): { uuid: string } | { error: string } {
  let body = input;
  let offset = 0;
  let simple = true;
  if (input.length >= 2 && input.startsWith('{') && input.endsWith('}')) {
    body = input.slice(1, -1);
    offset = 1;
    simple = false;
  } else if (input.startsWith('urn:uuid:')) {
    body = input.slice(9);
    offset = 9;
    simple = false;
  }
  const hex = body.replaceAll('-', '');
  const hyphenatedOk =
    body.length === 36 && [8, 13, 18, 23].every((i) => body[i] === '-') && hex.length === 32 && [...hex].every((c) => HEX.test(c));
  const simpleOk = simple && body.length === 32 && [...body].every((c) => HEX.test(c));
  if (hyphenatedOk || simpleOk) {
    const h = hex.toLowerCase();
    return { uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
  }
  let hyphens = 0;
  const bounds: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '-') {
      if (hyphens < 4) bounds.push(i);
      hyphens++;
    } else if (!HEX.test(c)) {
      const ch = String.fromCodePoint(body.codePointAt(i)!);
      return { error: `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${ch}\` at ${i + offset + 1}` };
    }
  }
  if (hyphens === 0 && simple) return { error: `invalid length: expected length 32 for simple format, found ${input.length}` };
  if (hyphens !== 4) return { error: `invalid group count: expected 5, found ${hyphens + 1}` };
  for (let g = 0; g < 4; g++) {
    if (bounds[g] !== BLOCK_STARTS[g + 1]! - 1) {
      return { error: `invalid group length in group ${g}: expected ${GROUP_LENGTHS[g]}, found ${bounds[g]! - BLOCK_STARTS[g]!}` };
    }
  }
  return { error: `invalid group length in group 4: expected 12, found ${body.length - BLOCK_STARTS[4]!}` };
}
