import { InvalidInputError } from "../util/errors.js";
import { escapeTerminalText } from "../util/terminal-text.js";

/**
 * The free text of proposal and operation files (the proposer's `summaries`): words no
 * one checks against the data. Bounded in number and size when read, and shown first,
 * wrapped by the toolkit with a marker on every line, so that it cannot draw lines that
 * look like the decoded actions (by padding to the terminal's width, say).
 */
export const MAX_SUMMARIES = 64;
export const MAX_SUMMARY_CHARS = 4096;
/** All summaries together: about 250 wrapped lines, before the decoded actions. */
export const MAX_SUMMARIES_TOTAL_CHARS = 16_384;
/** Width of a wrapped line of free text (the marker included, it fits an 80-column terminal). */
export const FREE_TEXT_WIDTH = 76;
const MARKER = "  ┆ ";

/** Reads a file's `summaries`: a list of at most `MAX_SUMMARIES` strings of at most `MAX_SUMMARY_CHARS` characters. */
export function parseSummaries(value: unknown[], where: string): string[] {
  if (!value.every((summary) => typeof summary === "string")) throw new InvalidInputError(`${where}: field "summaries" must be a list of strings`);
  if (value.length > MAX_SUMMARIES) throw new InvalidInputError(`${where}: field "summaries" has ${value.length} entries; at most ${MAX_SUMMARIES}`);
  const long = value.findIndex((summary) => (summary as string).length > MAX_SUMMARY_CHARS);
  if (long >= 0) throw new InvalidInputError(`${where}: summary ${long + 1} is ${(value[long] as string).length} characters long; at most ${MAX_SUMMARY_CHARS}`);
  const total = (value as string[]).reduce((sum, summary) => sum + summary.length, 0);
  if (total > MAX_SUMMARIES_TOTAL_CHARS) throw new InvalidInputError(`${where}: the summaries hold ${total} characters in all; at most ${MAX_SUMMARIES_TOTAL_CHARS}`);
  return value as string[];
}

/** Summaries the toolkit writes, cut to the bounds its readers enforce (a very long batch description). */
export function clampSummaries(summaries: readonly string[]): string[] {
  const kept = summaries.slice(0, MAX_SUMMARIES).map((summary) => (summary.length <= MAX_SUMMARY_CHARS ? summary : `${summary.slice(0, MAX_SUMMARY_CHARS - 40)}… (${summary.length} characters in all)`));
  if (summaries.length > MAX_SUMMARIES) kept[MAX_SUMMARIES - 1] = `… and ${summaries.length - MAX_SUMMARIES + 1} more`;
  let left = MAX_SUMMARIES_TOTAL_CHARS - 64;
  const fitting: string[] = [];
  for (const [i, summary] of kept.entries()) {
    if (summary.length > left) {
      fitting.push(`… and ${kept.length - i} more (cut)`);
      break;
    }
    fitting.push(summary);
    left -= summary.length;
  }
  return fitting;
}

/**
 * Free text as report lines: a heading saying it is unverified, then each entry escaped,
 * whitespace runs collapsed and hard-wrapped at `FREE_TEXT_WIDTH`, every line marked.
 */
export function unverifiedTextLines(heading: string, entries: readonly string[]): string[] {
  if (entries.length === 0) return [];
  const width = FREE_TEXT_WIDTH - MARKER.length;
  const lines = [heading];
  for (const [i, entry] of entries.entries()) {
    const text = escapeTerminalText(entry).replace(/\s+/g, " ").trim();
    const chunks = wrapColumns(text, width - 4);
    for (const [j, chunk] of chunks.entries()) lines.push(`${MARKER}${j === 0 ? `${String(i + 1).padStart(2)}. ` : "    "}${chunk}`);
  }
  return lines;
}

// Cuts text into lines of at most `columns` terminal columns, at spaces where it can (a
// longer word is cut), counting every character from U+1100 on as two (wide CJK, emoji):
// an overestimate keeps each line on one terminal line.
function wrapColumns(text: string, columns: number): string[] {
  const cells = (word: string): number => [...word].reduce((n, char) => n + (char.codePointAt(0)! >= 0x1100 ? 2 : 1), 0);
  const lines: string[] = [];
  let line = "";
  let used = 0;
  for (const word of text.split(" ")) {
    const width = cells(word);
    if (used > 0 && used + 1 + width <= columns) {
      line += ` ${word}`;
      used += 1 + width;
      continue;
    }
    if (used > 0) lines.push(line);
    line = "";
    used = 0;
    for (const char of word) {
      const w = cells(char);
      if (used + w > columns) {
        lines.push(line);
        line = "";
        used = 0;
      }
      line += char;
      used += w;
    }
  }
  lines.push(line);
  return lines;
}
