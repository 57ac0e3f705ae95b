// Timestamps as Chains prints them. Kubernetes serves RFC 3339 times (usually whole seconds, UTC);
// Go converts them to UTC and prints them three ways: encoding/json's RFC3339Nano (SLSA v0.2,
// trailing fractional zeros dropped), protojson's Timestamp (SLSA v1.0, 0/3/6/9 digits), and
// metav1.Time inside embedded Kubernetes objects (whole seconds).
import { ChainsmithError } from '../errors.js';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

interface UtcTime {
  /** `YYYY-MM-DDTHH:MM:SS` in UTC */
  seconds: string;
  /** fractional second digits, at most 9, possibly empty */
  fraction: string;
  /** every field in range, as Go's time.Parse requires (Date.UTC would roll `02-30` over to March) */
  inRange: boolean;
}

function parseUtc(text: string): UtcTime | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', , sign, oh, om] = m;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s));
  const inRange =
    date.getUTCMonth() === Number(mo) - 1 &&
    date.getUTCDate() === Number(d) &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(s) < 60 &&
    (!sign || (Number(oh) < 24 && Number(om) < 60));
  let ms = date.getTime();
  if (sign) ms -= (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  if (Number.isNaN(ms)) return undefined;
  const iso = new Date(ms).toISOString(); // always ends in .000Z: no sub-second part was added
  if (iso.length !== 24) return undefined; // a year beyond 0000–9999
  return { seconds: iso.slice(0, 19), fraction: frac.slice(0, 9), inRange };
}

function parseTime(text: string, field: string): UtcTime {
  if (!RFC3339.test(text)) throw new ChainsmithError('PayloadFailed', `${field} "${text}" is not an RFC 3339 time`);
  const t = parseUtc(text);
  if (!t) throw new ChainsmithError('PayloadFailed', `${field} "${text}" is not a valid time`);
  return t;
}

/** Go `time.Time` JSON (RFC3339Nano) of the UTC time: `2021-03-29T09:50:00Z`, `…:00.5Z`. */
export function goTime(text: string, field = 'time'): string {
  const t = parseTime(text, field);
  const frac = t.fraction.replace(/0+$/, '');
  return frac ? `${t.seconds}.${frac}Z` : `${t.seconds}Z`;
}

/** protojson `google.protobuf.Timestamp`: UTC with 0, 3, 6 or 9 fractional digits. */
export function protoTime(text: string, field = 'time'): string {
  const t = parseTime(text, field);
  const nanos = t.fraction.padEnd(9, '0');
  if (/^0+$/.test(nanos)) return `${t.seconds}Z`;
  if (nanos.endsWith('000000')) return `${t.seconds}.${nanos.slice(0, 3)}Z`;
  if (nanos.endsWith('000')) return `${t.seconds}.${nanos.slice(0, 6)}Z`;
  return `${t.seconds}.${nanos}Z`;
}

/**
 * Kubernetes `metav1.Time` as Go writes it after reading it: RFC 3339 in UTC, whole seconds (the fraction is
 * dropped). Undefined for Go's zero time, which is written as `null`, and for text Go cannot read.
 */
export function metav1Time(text: string): string | undefined {
  const t = parseUtc(text);
  if (!t?.inRange) return undefined;
  if (t.seconds === '0001-01-01T00:00:00' && /^0*$/.test(t.fraction)) return undefined;
  return `${t.seconds}Z`;
}
