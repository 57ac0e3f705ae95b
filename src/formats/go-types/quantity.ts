// Kubernetes `resource.Quantity` text as Go writes it after reading it (apimachinery v0.36 quantity.go):
// canonical forms (`0.5` → `500m`, `1024Mi` → `1Gi`, `1000m` → `1`), except that text already in canonical form
// is kept as written (Go caches it). Values are exact (BigInt); like Go, anything finer than 1n is rounded up.

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const SUFFIX_CHARS = 'eEinumkKMGTP';
const MAX_INT64 = (1n << 63n) - 1n;

interface Scanned {
  positive: boolean;
  /** sign, digits and fraction as written (for the slow path) */
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** parseQuantityString: sign, numerator (leading zeros stripped), denominator, suffix; undefined on bad text. */
function scan(str: string): Scanned | undefined {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === '-' || str[0] === '+') {
    positive = str[0] === '+';
    pos++;
  }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  if (i >= end) return { positive, value: str, num: str.slice(pos), denom: '', suffix: '' };
  const num = str.slice(pos, i) || '0';
  pos = i;
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { positive, value: str, num, denom, suffix: '' };
    pos = i;
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  i = pos;
  while (i < end && SUFFIX_CHARS.includes(str[i]!)) i++;
  if (i >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
  pos = i;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  for (i = pos; i < end; i++) if (!isDigit(str[i])) return undefined;
  return { positive, value, num, denom, suffix: str.slice(suffixStart) };
}

function interpret(suffix: string): { base: 10 | 2; exponent: number; format: Format } | undefined {
  if (Object.hasOwn(DECIMAL_SUFFIXES, suffix))
    return { base: 10, exponent: DECIMAL_SUFFIXES[suffix]!, format: 'DecimalSI' };
  if (Object.hasOwn(BINARY_SUFFIXES, suffix))
    return { base: 2, exponent: BINARY_SUFFIXES[suffix]!, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    const exponent = Number(suffix.slice(1));
    // strconv.ParseInt(…, 64) then int32(): out-of-range exponents are not worth reproducing
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000) return undefined;
    return { base: 10, exponent, format: 'DecimalExponent' };
  }
  return undefined;
}

/** An exact quantity: mantissa × 10^exponent. */
interface Amount {
  mantissa: bigint;
  exponent: number;
  format: Format;
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** ParseQuantity: the amount, or the text itself when Go keeps it verbatim, or undefined on error. */
function parse(str: string): Amount | string | undefined {
  if (str === '') return undefined;
  if (str === '0') return str;
  const s = scan(str);
  if (!s) return undefined;
  const suffix = interpret(s.suffix);
  if (!suffix) return undefined;
  const { base, exponent } = suffix;
  let { format } = suffix;
  // the fast path (int64 arithmetic), which keeps canonical text as written
  let precision: number;
  let scale: number;
  let multiplier = 1n;
  if (base === 10) {
    scale = exponent;
    precision = 18 - (s.num.length + s.denom.length);
  } else {
    scale = 0;
    if (exponent >= 0 && s.denom.length === 0) {
      multiplier = 1n << BigInt(exponent);
      precision = 15 - s.num.length - Math.trunc((exponent * 3) / 10) - 1;
    } else precision = -1;
  }
  if (precision >= 0) {
    scale -= s.denom.length;
    if (scale >= -9) {
      const shifted = s.num + s.denom;
      const product = BigInt(shifted) * multiplier;
      if (product <= MAX_INT64) {
        const mantissa = s.positive ? product : -product;
        const canonical =
          format === 'BinarySI'
            ? exponent % 10 === 0 && (BigInt(shifted) & 7n) !== 0n
            : scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
        if (canonical) return str;
        return { mantissa, exponent: scale, format };
      }
    }
  }
  // the slow path (inf.Dec): exact value, rounded up (away from zero) to nano units
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(s.value);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  let mantissa = BigInt((m[2] || '0') + (m[3] ?? ''));
  let exp = -(m[3] ?? '').length;
  if (base === 10) exp += exponent;
  else mantissa *= 1n << BigInt(exponent);
  if (mantissa !== 0n && exp < -9) {
    const divisor = pow10(-9 - exp);
    mantissa = (mantissa + divisor - 1n) / divisor;
    exp = -9;
  }
  if (format === 'BinarySI') {
    if (exp >= 0 ? mantissa * pow10(exp) > MAX_INT64 : mantissa > MAX_INT64 * pow10(-exp)) {
      mantissa = MAX_INT64;
      exp = 0;
    }
    // below 1 (and above 0): DecimalSI
    if (mantissa !== 0n && (exp >= 0 ? false : mantissa < pow10(-exp))) format = 'DecimalSI';
  }
  return { mantissa: m[1] === '-' ? -mantissa : mantissa, exponent: exp, format };
}

/** CanonicalizeBytes: the text Go writes for an amount. */
function canonical(a: Amount): string {
  if (a.mantissa === 0n) return '0';
  let format = a.format;
  const neg = a.mantissa < 0n;
  let abs = neg ? -a.mantissa : a.mantissa;
  let exp = a.exponent;
  if (format === 'BinarySI') {
    const integral = exp >= 0 || abs % pow10(-exp) === 0n;
    const value = exp >= 0 ? abs * pow10(exp) : abs / pow10(-exp);
    if (!integral || value < 1024n) format = 'DecimalSI';
    else {
      let n = value;
      let k = 0;
      while (n % 1024n === 0n) {
        n /= 1024n;
        k++;
      }
      const suffix = Object.keys(BINARY_SUFFIXES).find((s) => BINARY_SUFFIXES[s] === k * 10) ?? '';
      return `${neg ? '-' : ''}${n}${suffix}`;
    }
  }
  while (abs % 10n === 0n) {
    abs /= 10n;
    exp++;
  }
  while (exp % 3 !== 0) {
    abs *= 10n;
    exp--;
  }
  let suffix: string;
  if (format === 'DecimalExponent') suffix = exp === 0 ? '' : `e${exp}`;
  else suffix = Object.keys(DECIMAL_SUFFIXES).find((s) => DECIMAL_SUFFIXES[s] === exp) ?? '';
  return `${neg ? '-' : ''}${abs}${suffix}`;
}

/**
 * The text Go writes for a Quantity read from `text` (a JSON string or the text of a JSON number), or undefined
 * where Go fails to read it.
 */
export function canonicalQuantity(text: string): string | undefined {
  const parsed = parse(text.trim());
  if (parsed === undefined || typeof parsed === 'string') return parsed;
  return canonical(parsed);
}
