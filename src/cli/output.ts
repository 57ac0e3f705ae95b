// Printing untrusted content safely. JSON.stringify escapes C0 controls but leaves DEL, C1 controls (U+0080–U+009F,
// e.g. the 8-bit CSI), the bidirectional overrides and U+2028/U+2029 raw; on a terminal they can move the cursor or
// reorder text. escapeJsonText writes them as \u escapes: the same JSON value, so parsers read the same data.

// Only characters JSON.stringify leaves as they are; they can occur in JSON text only inside strings.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** JSON text with every terminal-unsafe character that JSON.stringify leaves raw written as `\uXXXX`. */
export function escapeJsonText(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** JSON.stringify, then escapeJsonText. */
export function safeJson(value: unknown, indent?: number): string {
  return escapeJsonText(JSON.stringify(value, null, indent));
}
