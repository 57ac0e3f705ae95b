// Go's `strings.TrimSpace`, because Chains trims hint values with it and JavaScript's `trim()` differs
// on two code points (Go trims U+0085 NEL, JavaScript trims U+FEFF BOM). Same input, same extraction.

// unicode.IsSpace: '\t', '\n', '\v', '\f', '\r', ' ', U+0085, U+00A0 and the White_Space code points of category Z.
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g');

/** Go `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  return s.replace(TRIM, '');
}
