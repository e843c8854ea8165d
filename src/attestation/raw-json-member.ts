/**
 * The exact source text of a top-level member of a JSON object. PCS signs the bytes
 * of `tcbInfo` / `enclaveIdentity` as served, so re-serialising could break the
 * signature (key order, number formatting, escapes).
 */
export function rawJsonMember(text: string, key: string): string | undefined {
  const skipSpace = (i: number) => {
    while (i < text.length && /\s/.test(text[i] ?? "")) i++;
    return i;
  };
  const skipString = (i: number) => {
    for (i++; i < text.length; i++) {
      if (text[i] === "\\") i++;
      else if (text[i] === '"') return i + 1;
    }
    throw new Error("unterminated string");
  };
  // `text` has already passed JSON.parse, so brackets are balanced and tokens valid.
  const skipValue = (i: number) => {
    const first = text[i];
    if (first === '"') return skipString(i);
    if (first === "{" || first === "[") {
      let depth = 0;
      while (i < text.length) {
        const c = text[i];
        if (c === '"') {
          i = skipString(i);
          continue;
        }
        if (c === "{" || c === "[") depth++;
        else if (c === "}" || c === "]") {
          depth -= 1;
          if (depth === 0) return i + 1;
        }
        i++;
      }
      throw new Error("unterminated value");
    }
    while (i < text.length && !/[,}\]\s]/.test(text[i] ?? "")) i++; // number, true, false, null
    return i;
  };
  let i = skipSpace(0);
  if (text[i] !== "{") return undefined;
  i = skipSpace(i + 1);
  while (text[i] === '"') {
    const keyEnd = skipString(i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(keyEnd);
    if (text[i] !== ":") return undefined;
    const start = skipSpace(i + 1);
    const end = skipValue(start);
    if (name === key) return text.slice(start, end).trim();
    i = skipSpace(end);
    if (text[i] !== ",") return undefined;
    i = skipSpace(i + 1);
  }
  return undefined;
}

