/**
 * Text shown in a terminal can come from others: a proposal file's summaries, a contract's
 * string arguments, a CVM's answers, an RPC's error message. Control characters (escape
 * sequences, carriage returns), line and paragraph separators and bidi controls could
 * rewrite or hide what a signer or operator reads, so they are shown escaped (`\u001b`).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what this escapes before text reaches a terminal
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

// The same set without the ASCII controls JSON.stringify already escapes.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * A JSON document with every bidi, separator, zero-width and C1 control character inside
 * its strings written as a `\uXXXX` escape: the same value for a JSON reader, but what a
 * terminal or a log viewer shows is what the data holds. (Outside strings, JSON has no
 * such characters, so the replacement cannot change the document's structure.)
 */
export function escapeJsonText(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `text` with every control, separator and bidi character written as `\uXXXX`. */
export function escapeTerminalText(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
