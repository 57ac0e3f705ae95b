// Escaping of untrusted strings (run results, registry answers, payload fields) before they reach a terminal,
// an Event or a log line: control characters and bidirectional overrides could otherwise clear the screen,
// move the cursor or draw a fake "VERIFIED" (issue 15). Printable text, including non-ASCII letters, is kept.

// C0 controls, DEL, C1 controls, and the Unicode bidi embeddings/overrides/isolates that reorder what is shown.
const UNSAFE_LINE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
const UNSAFE_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

function escapeChar(c: string): string {
  const code = c.codePointAt(0)!;
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One-line form of an untrusted string: every control character (newlines too) is shown as an escape. */
export function escapeTerminal(s: string): string {
  return s.replace(UNSAFE_LINE, escapeChar);
}

/** Multi-line form: keeps `\n` and `\t`, escapes every other control character. */
export function escapeTerminalText(s: string): string {
  return s.replace(UNSAFE_TEXT, escapeChar);
}

// Only characters JSON.stringify leaves raw (it escapes C0 itself); they can occur in JSON text only inside strings.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * JSON text with DEL, C1 controls, bidi overrides and U+2028/9 written as `\uXXXX`: the same JSON value (parsers
 * read the same data), but nothing that can move a terminal's cursor or reorder what it shows.
 */
export function escapeJsonText(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
