/**
 * Text for generated requests: strings whose length sits at a schema's edges, built from code
 * points of every kind a name or id can meet in the wild (every Unicode plane, combining marks,
 * right-to-left scripts, zero-width and bidi controls, emoji, controls, noncharacters), and the
 * text no PostgreSQL column can hold (NUL, half a surrogate pair).
 */
import fc from "fast-check";

const codePointIn = (min: number, max: number) => fc.integer({ min, max }).map((cp) => String.fromCodePoint(cp));

/** One code point per value, so that lengths count as JSON Schema and PostgreSQL count them. */
export const codePoint: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(..."abcdefxyzABCXYZ0189-_. ") },
  { weight: 2, arbitrary: codePointIn(0x00c0, 0x024f) }, // Latin with diacritics
  { weight: 2, arbitrary: codePointIn(0x0300, 0x036f) }, // combining marks
  { weight: 2, arbitrary: fc.oneof(codePointIn(0x05d0, 0x05ea), codePointIn(0x0620, 0x064a)) }, // Hebrew, Arabic
  { weight: 1, arbitrary: codePointIn(0x4e00, 0x9fff) }, // CJK
  { weight: 2, arbitrary: codePointIn(0x1f300, 0x1faff) }, // emoji
  {
    weight: 2,
    // Planes 1, 2, 3, 14, 15 and 16.
    arbitrary: fc.oneof(
      codePointIn(0x10000, 0x1fffd),
      codePointIn(0x20000, 0x2fffd),
      codePointIn(0x30000, 0x3134f),
      codePointIn(0xe0000, 0xe007f),
      codePointIn(0xf0000, 0xffffd),
      codePointIn(0x100000, 0x10fffd),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad") }, // zero-width
  { weight: 1, arbitrary: fc.constantFrom("\u202e", "\u202d", "\u2066", "\u2067", "\u2069", "\u200e", "\u200f", "\u061c") }, // bidi
  { weight: 1, arbitrary: fc.constantFrom(" ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u2028") }, // whitespace
  { weight: 1, arbitrary: fc.oneof(codePointIn(0x01, 0x1f), codePointIn(0x7f, 0x9f)) }, // controls
  { weight: 1, arbitrary: fc.constantFrom("\ufffe", "\uffff", "\ufdd0", "\u{1fffe}", "\u{10ffff}") }, // noncharacters
  { weight: 1, arbitrary: fc.constantFrom("'", '"', "\\", "%", "_", "<", ">", "&", "/", "?", "#", ",", ";", ":", "@", "*") },
);

/** Multi-code-point sequences that must survive as they are. */
const SEQUENCES = ["👨‍👩‍👧", "🏳️‍🌈", "👍🏽", "e\u0301", "שלום", "مرحبا", "Ǆ", "ﬁ", "Å", "\u0958"];

function lengthOf(text: string): number {
  return [...text].length;
}

/** Exactly `length` code points (sequences may be cut at the end). */
function textOfLength(length: number): fc.Arbitrary<string> {
  const unit = fc.oneof({ weight: 12, arbitrary: codePoint }, { weight: 1, arbitrary: fc.constantFrom(...SEQUENCES) });
  return fc.array(unit, { minLength: length, maxLength: length }).map((units) => [...units.join("")].slice(0, length).join(""));
}

/** A string of min..max code points, lengths at the edges more often than not. */
export function textAtEdges(min: number, max: number): fc.Arbitrary<string> {
  const low = Math.max(min, 0);
  const lengths = fc.oneof(
    fc.constant(low),
    fc.constant(max),
    fc.integer({ min: low, max: Math.min(max, low + 12) }),
    fc.integer({ min: low, max }),
  );
  return lengths.chain(textOfLength).map((text) => {
    // Never shorter than asked (a cut sequence may have taken code points away).
    const missing = low - lengthOf(text);
    return missing > 0 ? text + "a".repeat(missing) : text;
  });
}

/** Text that no PostgreSQL text column or jsonb value can store. */
export const unstorableText: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom("\u0000", "\ud800", "\udfff", "\udbff"), textAtEdges(0, 8), textAtEdges(0, 8))
  .map(([bad, before, after]) => `${before}${bad}${after}`);

/** Over-long text: just past a limit, or far past it. */
export function textOverLimit(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    textOfLength(max + 1),
    fc.constantFrom(1_000, 10_000, 100_000).map((length) => "x".repeat(Math.max(length, max + 1))),
  );
}
