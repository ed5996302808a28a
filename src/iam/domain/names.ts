/**
 * The one rule for the names of tenants, workspaces, groups and API keys. A name is what people
 * read to tell resources apart, so it must look like what it is:
 *
 * 1. normalised to Unicode NFC (so that "é" typed two ways is one name);
 * 2. surrounding white space trimmed;
 * 3. 1 to the kind's maximum of characters (code points, as PostgreSQL counts them);
 * 4. no control characters (tab and newline included), no bidirectional controls, no zero-width
 *    or other invisible formatting characters, no noncharacters: text that renders as something
 *    else, or as nothing, makes look-alike names. A zero-width joiner inside an emoji sequence
 *    (👨‍👩‍👧) is part of the emoji and stays.
 *
 * Every script, combining marks, right-to-left letters and emoji are names like any other.
 */
import { InvalidInputError } from "./errors.js";

export type NamedKind = "Tenant" | "Workspace" | "Group" | "API key" | "SCIM token";

/** Workspace names are 1-512 characters; tenants, groups, API keys and SCIM tokens 1-255 (DESIGN §3.5). */
export const NAME_MAX_LENGTH: Readonly<Record<NamedKind, number>> = {
  Tenant: 255,
  Workspace: 512,
  Group: 255,
  "API key": 255,
  "SCIM token": 255,
};

export type NameProblem =
  | { readonly kind: "blank" }
  | { readonly kind: "too_long"; readonly max: number; readonly length: number }
  | { readonly kind: "character"; readonly characterClass: string; readonly codePoint: number };

export class InvalidNameError extends InvalidInputError {
  constructor(
    readonly subject: NamedKind,
    readonly problem: NameProblem,
  ) {
    super(messageOf(subject, problem));
  }
}

function messageOf(subject: NamedKind, problem: NameProblem): string {
  switch (problem.kind) {
    case "blank":
      return `${subject} name cannot be empty or whitespace-only`;
    case "too_long":
      return `${subject} name must be between 1 and ${problem.max} characters (got ${problem.length})`;
    case "character":
      return `${subject} name ${forbiddenCharacterText(problem)}`;
  }
}

const SURROUNDING_WHITE_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;
const CONTROL = /^\p{Cc}$/u;
const PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u;
const BIDI_CONTROLS = new Set([0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]);
const INVISIBLE = new Set([0x00ad, 0x200b, 0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff]);
const ZERO_WIDTH_JOINER = 0x200d;
/** What may stand between an emoji and a joiner: a variation selector or a skin tone. */
function isEmojiModifier(character: string): boolean {
  const codePoint = character.codePointAt(0) ?? 0;
  return codePoint === 0xfe0f || (codePoint >= 0x1f3fb && codePoint <= 0x1f3ff);
}

function classOf(codePoint: number): string | null {
  const character = String.fromCodePoint(codePoint);
  if (CONTROL.test(character)) return "control characters (such as tab or newline)";
  if (BIDI_CONTROLS.has(codePoint)) return "bidirectional control characters";
  if (INVISIBLE.has(codePoint)) return "zero-width or invisible formatting characters";
  if ((codePoint >= 0xfdd0 && codePoint <= 0xfdef) || (codePoint & 0xfffe) === 0xfffe) return "noncharacters";
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return "unpaired surrogates";
  return null;
}

/** A joiner between two pictographs (modifiers allowed before it) belongs to an emoji sequence. */
function joinsEmoji(characters: readonly string[], index: number): boolean {
  let before = index - 1;
  while (before >= 0 && isEmojiModifier(characters[before] ?? "")) before--;
  return PICTOGRAPHIC.test(characters[before] ?? "") && PICTOGRAPHIC.test(characters[index + 1] ?? "");
}

export interface ForbiddenCharacter {
  readonly characterClass: string;
  readonly codePoint: number;
}

/** "must not contain <class> (found U+XXXX)", for a message that names the field first. */
export function forbiddenCharacterText(found: ForbiddenCharacter): string {
  return `must not contain ${found.characterClass} (found U+${found.codePoint.toString(16).toUpperCase().padStart(4, "0")})`;
}

/**
 * The first character of `text` that rule 4 forbids, or null. Also what identifiers other than
 * names must pass (a directory's userName and email), where a look-alike is worse still.
 */
export function firstForbiddenCharacter(text: string): ForbiddenCharacter | null {
  const characters = [...text];
  for (const [index, character] of characters.entries()) {
    const codePoint = character.codePointAt(0) as number;
    const characterClass = classOf(codePoint);
    if (characterClass === null) continue;
    if (codePoint === ZERO_WIDTH_JOINER && joinsEmoji(characters, index)) continue;
    return { characterClass, codePoint };
  }
  return null;
}

/** The name as stored, or the first problem with it. */
function checkName(subject: NamedKind, raw: string): { name: string } | { problem: NameProblem } {
  const name = raw.normalize("NFC").replace(SURROUNDING_WHITE_SPACE, "");
  const length = [...name].length;
  if (length === 0) return { problem: { kind: "blank" } };
  const max = NAME_MAX_LENGTH[subject];
  if (length > max) return { problem: { kind: "too_long", max, length } };
  const found = firstForbiddenCharacter(name);
  return found === null ? { name } : { problem: { kind: "character", ...found } };
}

/** The name as stored; InvalidNameError when it breaks the rule. */
export function nameOf(subject: NamedKind, raw: string): string {
  const checked = checkName(subject, raw);
  if ("problem" in checked) throw new InvalidNameError(subject, checked.problem);
  return checked.name;
}
