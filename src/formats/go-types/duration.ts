// Go `time.Duration` text, as metav1.Duration reads and writes it: ParseDuration on the way in, String() on the
// way out (`90m` → `1h30m0s`, `1.5s`, `250ms`, `0s`). Nanoseconds are int64, so the arithmetic is BigInt.

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_INT64 = (1n << 63n) - 1n;
const DIGIT = /[0-9]/;

/** Go's time.ParseDuration: nanoseconds, or undefined where Go returns an error. */
export function parseGoDuration(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || DIGIT.test(s[0]!))) return undefined;
    let i = 0;
    let v = 0n;
    while (i < s.length && DIGIT.test(s[i]!)) {
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > 1n << 63n) return undefined; // leadingInt overflow
      i++;
    }
    const pre = i > 0;
    s = s.slice(i);
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      while (j < s.length && DIGIT.test(s[j]!)) {
        // leadingFraction: digits past int64 precision are consumed but ignored
        if (!overflow) {
          if (f > MAX_INT64 / 10n) overflow = true;
          else {
            const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
            if (y > 1n << 63n) overflow = true;
            else {
              f = y;
              scale *= 10;
            }
          }
        }
        j++;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) return undefined;
    let u = 0;
    while (u < s.length && s[u] !== '.' && !DIGIT.test(s[u]!)) u++;
    if (u === 0) return undefined;
    const unit = UNITS[s.slice(0, u)];
    s = s.slice(u);
    if (unit === undefined) return undefined;
    if (v > (1n << 63n) / unit) return undefined;
    v *= unit;
    if (f > 0n) {
      // Go computes the fraction in float64: uint64(float64(f) * (float64(unit) / scale))
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > 1n << 63n) return undefined;
    }
    total += v;
    if (total > 1n << 63n) return undefined;
  }
  if (neg) return -total;
  if (total > MAX_INT64) return undefined;
  return total;
}

/** `.fraction` of v / 10^prec without trailing zeros (nothing when it is zero), and v / 10^prec. */
function fraction(v: bigint, prec: number): [string, bigint] {
  let digits = '';
  let printed = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    printed ||= digit !== 0n;
    if (printed) digits = digit.toString() + digits;
    v /= 10n;
  }
  return [printed ? `.${digits}` : '', v];
}

/** Go's Duration.String() for a number of nanoseconds. */
export function formatGoDuration(ns: bigint): string {
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u === 0n) return '0s';
    const [prec, unit] = u < 1_000n ? [0, 'ns'] : u < 1_000_000n ? [3, 'µs'] : [6, 'ms'];
    const [frac, whole] = fraction(u, prec);
    out = `${whole}${frac}${unit}`;
  } else {
    const [frac, seconds] = fraction(u, 9);
    u = seconds;
    out = `${u % 60n}${frac}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}
