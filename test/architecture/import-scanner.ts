/**
 * A small purpose-built scanner for the module specifiers a TypeScript file imports. It tokenises
 * just enough (comments, string and template literals, identifiers, punctuation) that an import
 * written inside a comment or a string is not mistaken for a real one, which a plain regular
 * expression over the source would get wrong.
 */
export interface ImportReference {
  readonly specifier: string;
  /** 1-based line of the specifier, for messages. */
  readonly line: number;
}

type Token =
  | { readonly kind: "word"; readonly text: string; readonly line: number }
  | { readonly kind: "string"; readonly text: string; readonly line: number }
  | { readonly kind: "punct"; readonly text: string; readonly line: number };

const WORD_START = /[A-Za-z_$]/;
const WORD_PART = /[A-Za-z0-9_$]/;

const KEYWORDS_BEFORE_EXPRESSION = new Set(["return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield", "await"]);

/** A slash starts a regular expression unless it follows something that ends a value. */
function startsRegex(previous: Token | undefined): boolean {
  if (previous === undefined) return true;
  if (previous.kind === "string") return false;
  if (previous.kind === "word") return KEYWORDS_BEFORE_EXPRESSION.has(previous.text);
  return ![")", "]", "}", "`", "/regex/"].includes(previous.text);
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  // Brace depth of each open template literal's `${`, so that the template resumes after its `}`.
  const templateDepths: number[] = [];
  let braceDepth = 0;

  const readTemplateChunk = () => {
    // i is just past a backtick or a closing `}` of a substitution; read until ` or ${.
    while (i < source.length) {
      const c = source[i];
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "\n") line++;
      if (c === "`") {
        i++;
        return;
      }
      if (c === "$" && source[i + 1] === "{") {
        i += 2;
        templateDepths.push(braceDepth);
        braceDepth++;
        return;
      }
      i++;
    }
  };

  while (i < source.length) {
    const c = source[i] ?? "";
    const next = source[i + 1];
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      for (let j = i; j < stop; j++) if (source[j] === "\n") line++;
      i = stop;
    } else if (c === "/" && startsRegex(tokens[tokens.length - 1])) {
      // A regular expression literal: skip it whole, it may hold quotes or slashes.
      let inClass = false;
      i++;
      while (i < source.length && source[i] !== "\n") {
        const r = source[i];
        if (r === "\\") i++;
        else if (r === "[") inClass = true;
        else if (r === "]") inClass = false;
        else if (r === "/" && !inClass) break;
        i++;
      }
      i++;
      tokens.push({ kind: "punct", text: "/regex/", line });
    } else if (c === '"' || c === "'") {
      const startLine = line;
      let text = "";
      i++;
      while (i < source.length && source[i] !== c && source[i] !== "\n") {
        if (source[i] === "\\") {
          text += source[i + 1] ?? "";
          i += 2;
        } else {
          text += source[i];
          i++;
        }
      }
      i++;
      tokens.push({ kind: "string", text, line: startLine });
    } else if (c === "`") {
      i++;
      readTemplateChunk();
      tokens.push({ kind: "punct", text: "`", line });
    } else if (c === "}" && templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === braceDepth - 1) {
      templateDepths.pop();
      braceDepth--;
      i++;
      readTemplateChunk();
    } else if (WORD_START.test(c)) {
      let text = "";
      while (i < source.length && WORD_PART.test(source[i] ?? "")) text += source[i++];
      tokens.push({ kind: "word", text, line });
    } else {
      if (c === "{") braceDepth++;
      if (c === "}") braceDepth--;
      tokens.push({ kind: "punct", text: c, line });
      i++;
    }
  }
  return tokens;
}

/**
 * Specifiers of `import ... from "x"`, `export ... from "x"`, `import "x"`, `import("x")` and
 * `import x = require("x")`. Type-only imports count: a type is a dependency too.
 */
export function scanImports(source: string): ImportReference[] {
  const tokens = tokenize(source);
  const found: ImportReference[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k];
    if (token?.kind !== "string") continue;
    const before = tokens[k - 1];
    const twoBefore = tokens[k - 2];
    const isWord = (t: Token | undefined, text: string) => t?.kind === "word" && t.text === text;
    const isPunct = (t: Token | undefined, text: string) => t?.kind === "punct" && t.text === text;
    const afterDot = (index: number) => isPunct(tokens[index - 1], ".");
    if (
      (isWord(before, "from") && !afterDot(k - 1)) ||
      (isWord(before, "import") && !afterDot(k - 1)) ||
      (isPunct(before, "(") && isWord(twoBefore, "import") && !afterDot(k - 2)) ||
      (isPunct(before, "(") && isWord(twoBefore, "require") && !afterDot(k - 2))
    ) {
      found.push({ specifier: token.text, line: token.line });
    }
  }
  return found;
}
