import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../src/iam/domain/errors.js";
import { InvalidNameError, NAME_MAX_LENGTH, nameOf, type NamedKind } from "../../../src/iam/domain/names.js";

const KINDS: NamedKind[] = ["Tenant", "Workspace", "Group", "API key"];

function problemOf(raw: string, kind: NamedKind = "Tenant") {
  try {
    nameOf(kind, raw);
    return null;
  } catch (error) {
    if (!(error instanceof InvalidNameError)) throw error;
    return error;
  }
}

describe("the name rule", () => {
  it("normalises to NFC and trims surrounding white space of any script", () => {
    expect(nameOf("Tenant", "Cafe\u0301")).toBe("Café");
    expect(nameOf("Tenant", "Cafe\u0301")).toHaveLength(4);
    expect(nameOf("Workspace", " \t Research \n")).toBe("Research");
    expect(nameOf("Group", "\u3000ops\u00a0")).toBe("ops");
  });

  it.each(KINDS)("refuses an empty or whitespace-only %s name", (kind) => {
    for (const raw of ["", " ", "\t\n", "\u3000\u2003"]) {
      const error = problemOf(raw, kind);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error?.message).toBe(`${kind} name cannot be empty or whitespace-only`);
    }
  });

  it.each(KINDS)("allows %s names up to their maximum, counted in characters", (kind) => {
    const max = NAME_MAX_LENGTH[kind];
    expect(nameOf(kind, "😀".repeat(max))).toBe("😀".repeat(max));
    expect(problemOf("😀".repeat(max + 1), kind)?.problem).toEqual({ kind: "too_long", max, length: max + 1 });
  });

  it("keeps the limits of DESIGN §3.5", () => {
    expect(NAME_MAX_LENGTH).toEqual({ Tenant: 255, Workspace: 512, Group: 255, "API key": 255, "SCIM token": 255 });
  });

  it.each([
    ["a\tb", "control characters (such as tab or newline)", 0x09],
    ["a\nb", "control characters (such as tab or newline)", 0x0a],
    ["a\u0000b", "control characters (such as tab or newline)", 0x00],
    ["a\u007fb", "control characters (such as tab or newline)", 0x7f],
    ["a\u0085b", "control characters (such as tab or newline)", 0x85],
    ["admin\u202Eoc.exe", "bidirectional control characters", 0x202e],
    ["a\u2066b", "bidirectional control characters", 0x2066],
    ["a\u200Eb", "bidirectional control characters", 0x200e],
    ["a\u061Cb", "bidirectional control characters", 0x061c],
    ["pay\u200Bpal", "zero-width or invisible formatting characters", 0x200b],
    ["a\u200Cb", "zero-width or invisible formatting characters", 0x200c],
    ["a\u200Db", "zero-width or invisible formatting characters", 0x200d],
    ["a\u2060b", "zero-width or invisible formatting characters", 0x2060],
    ["\uFEFFacme", "zero-width or invisible formatting characters", 0xfeff],
    ["ac\u00ADme", "zero-width or invisible formatting characters", 0x00ad],
    ["a\uFFFEb", "noncharacters", 0xfffe],
    ["a\uFDD0b", "noncharacters", 0xfdd0],
    ["a\u{1FFFF}b", "noncharacters", 0x1ffff],
    ["a\uD800b", "unpaired surrogates", 0xd800],
  ])("refuses %j: it contains %s", (raw, characterClass, codePoint) => {
    const error = problemOf(raw);
    expect(error?.problem).toEqual({ kind: "character", characterClass, codePoint });
    expect(error?.message).toBe(
      `Tenant name must not contain ${characterClass} (found U+${codePoint.toString(16).toUpperCase().padStart(4, "0")})`,
    );
  });

  it.each([
    ["emoji", "Team 🚀"],
    ["an emoji ZWJ sequence", "👨‍👩‍👧 family"],
    ["a ZWJ sequence with a skin tone", "👩🏽‍💻 devs"],
    ["a ZWJ sequence with a variation selector", "🏳️‍🌈"],
    ["a flag", "🇫🇷 Paris"],
    ["combining marks", "Ŗ̥̽e̊s̈"],
    ["Hebrew", "שלום"],
    ["Arabic", "مرحبا بالعالم"],
    ["CJK and an astral ideograph", "研究 𠀀"],
    ["Devanagari", "क़ानून"],
    ["inner spaces", "a  b"],
  ])("keeps %s", (_, raw) => {
    expect(nameOf("Workspace", raw)).toBe(raw.normalize("NFC"));
  });

  it("returns what it would accept again unchanged, or refuses with an InvalidNameError", () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.string({ unit: "binary", maxLength: 40 }), (kind, raw) => {
        let name: string;
        try {
          name = nameOf(kind, raw);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidNameError);
          return;
        }
        expect(name).toBe(name.normalize("NFC"));
        expect(name).toBe(name.trim());
        expect(nameOf(kind, name)).toBe(name);
      }),
      { numRuns: 500 },
    );
  });
});
