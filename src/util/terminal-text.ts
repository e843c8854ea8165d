/**
 * Text shown in a terminal can come from others: a proposal file's summaries, a contract's
 * string arguments, a CVM's answers, an RPC's error message. Control characters (escape
 * sequences, carriage returns), line and paragraph separators and bidi controls could
 * rewrite or hide what a signer or operator reads, so they are shown escaped (`\u001b`).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control, separator and bidi character written as `\uXXXX`. */
export function escapeTerminalText(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
