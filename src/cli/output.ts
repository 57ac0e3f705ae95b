// Printing untrusted content as JSON: JSON.stringify escapes C0 controls but leaves DEL, C1 controls (U+0080–U+009F,
// e.g. the 8-bit CSI), the bidirectional overrides and U+2028/U+2029 raw; escapeJsonText (text/terminal.ts) writes
// them as \u escapes, the same JSON value.
import { escapeJsonText } from '../text/terminal.js';

export { escapeJsonText };

/** JSON.stringify, then escapeJsonText. */
export function safeJson(value: unknown, indent?: number): string {
  return escapeJsonText(JSON.stringify(value, null, indent));
}
