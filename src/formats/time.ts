// Timestamps as Chains prints them. Kubernetes serves RFC 3339 times (usually whole seconds, UTC);
// Go converts them to UTC and prints them two ways: encoding/json's RFC3339Nano (SLSA v0.2,
// trailing fractional zeros dropped) and protojson's Timestamp (SLSA v1.0, 0/3/6/9 digits).
import { ChainsmithError } from '../errors.js';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

interface UtcTime {
  /** `YYYY-MM-DDTHH:MM:SS` in UTC */
  seconds: string;
  /** fractional second digits, at most 9, possibly empty */
  fraction: string;
}

function parseTime(text: string, field: string): UtcTime {
  const m = RFC3339.exec(text);
  if (!m) throw new ChainsmithError('PayloadFailed', `${field} "${text}" is not an RFC 3339 time`);
  const [, y, mo, d, h, mi, s, frac = '', , sign, oh, om] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (sign) ms -= (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  if (Number.isNaN(ms)) throw new ChainsmithError('PayloadFailed', `${field} "${text}" is not a valid time`);
  const iso = new Date(ms).toISOString(); // always ends in .000Z: no sub-second part was added
  return { seconds: iso.slice(0, 19), fraction: frac.slice(0, 9) };
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
