// What Go's encoding/json writes for a Tekton object after reading it into its Go type (json.Unmarshal, then
// json.Marshal): unknown fields dropped, struct fields in declaration order, zero values filled in where a field
// has no omitempty (`"podName":""`, `"computeResources":{}`, `"lastTransitionTime":null`), omitempty/omitzero
// applied, and the types with their own encoding normalised (times to whole seconds in UTC, durations like
// `1h30m0s`, quantities like `500m`). Chains embeds objects this way; the result keeps Go's member order.
import { sortedKeys, type JsonValue } from '../serialise.js';
import { metav1Time } from '../time.js';
import { formatGoDuration, parseGoDuration } from './duration.js';
import { goRootType, type GoField, type GoRoot, type GoStruct, type GoType, type Special } from './layout.js';
import { canonicalQuantity } from './quantity.js';

/** A value as Go would write it, and whether omitempty / omitzero would leave it out. */
interface Encoded {
  json: JsonValue;
  empty: boolean;
  zero: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The JSON value Go writes for `value` read into the Go type of `root` (e.g. a TaskRun as Chains embeds it),
 * members in Go's order. Input Go could not read at all (a number where a string belongs) becomes the zero value.
 */
export function goRoundTrip(value: unknown, root: GoRoot): JsonValue {
  return encode(value, goRootType(root)).json;
}

function encode(v: unknown, t: GoType): Encoded {
  switch (t.kind) {
    case 'string': {
      const s = typeof v === 'string' ? v : '';
      return { json: s, empty: s === '', zero: s === '' };
    }
    case 'bool': {
      const b = v === true;
      return { json: b, empty: !b, zero: !b };
    }
    case 'int':
    case 'uint':
    case 'float': {
      const ok = typeof v === 'number' && Number.isFinite(v) && (t.kind === 'float' || Number.isInteger(v));
      const n = ok && !(t.kind === 'uint' && v < 0) ? v : 0;
      return { json: n, empty: n === 0, zero: n === 0 };
    }
    case 'pointer':
      if (v === undefined || v === null) return { json: null, empty: true, zero: true };
      return { ...encode(v, t.elem), empty: false, zero: false };
    case 'slice':
      if (!Array.isArray(v)) return { json: null, empty: true, zero: true };
      return { json: v.map((item) => encode(item, t.elem).json), empty: v.length === 0, zero: false };
    case 'map': {
      if (!isObject(v)) return { json: null, empty: true, zero: true };
      const out: { [key: string]: JsonValue } = {};
      for (const key of sortedKeys(v)) define(out, key, encode(v[key], t.elem).json);
      return { json: out, empty: Object.keys(v).length === 0, zero: false };
    }
    case 'struct':
      return encodeStruct(isObject(v) ? v : {}, t.struct);
    case 'special':
      return encodeSpecial(v, t.special);
  }
}

/** Types whose zero value `null` leaves untouched when Go decodes it (pointers, slices and maps become nil). */
function nullIsNoOp(t: GoType): boolean {
  return (
    t.kind === 'string' ||
    t.kind === 'bool' ||
    t.kind === 'int' ||
    t.kind === 'uint' ||
    t.kind === 'float' ||
    t.kind === 'struct' ||
    (t.kind === 'special' && t.special === 'Raw')
  );
}

function encodeStruct(v: Record<string, unknown>, s: GoStruct): Encoded {
  // encoding/json assigns each input key to the field of that json name, else of that name in another case;
  // a later key overwrites an earlier one
  const values = new Map<GoField, unknown>();
  for (const [key, value] of Object.entries(v)) {
    const field = s.exact.get(key) ?? s.folded.get(key.toLowerCase());
    if (!field || (value === null && nullIsNoOp(field.type))) continue;
    values.set(field, value);
  }
  const out: { [key: string]: JsonValue } = {};
  let zero = true;
  for (const field of s.fields) {
    const e = encode(values.get(field), field.type);
    zero &&= e.zero;
    if ((field.omitEmpty && e.empty) || (field.omitZero && e.zero)) continue;
    define(out, field.name, e.json);
  }
  // a struct is never "empty" for omitempty
  return { json: out, empty: false, zero };
}

/** Sets a member; a `__proto__` key from the input is data, not the prototype. */
function define(obj: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** The types with their own MarshalJSON / UnmarshalJSON (all Go structs: omitempty never drops them). */
function encodeSpecial(v: unknown, special: Special): Encoded {
  switch (special) {
    case 'Time':
    case 'VolatileTime': {
      // metav1.Time: RFC 3339 in, whole seconds in UTC out; the zero time (or unreadable text) is written as null
      const text = typeof v === 'string' ? metav1Time(v) : undefined;
      return { json: text ?? null, empty: false, zero: text === undefined };
    }
    case 'Duration': {
      const ns = typeof v === 'string' ? parseGoDuration(v) : undefined;
      return { json: formatGoDuration(ns ?? 0n), empty: false, zero: ns === undefined || ns === 0n };
    }
    case 'Quantity': {
      const text = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
      const q = text === undefined ? undefined : canonicalQuantity(text);
      return { json: q ?? '0', empty: false, zero: q === undefined };
    }
    case 'IntOrString': {
      const json = typeof v === 'string' ? v : typeof v === 'number' && Number.isInteger(v) ? v : 0;
      return { json, empty: false, zero: json === 0 };
    }
    case 'ParamValue':
      return { json: paramValue(v), empty: false, zero: v === undefined };
    case 'Raw':
      // runtime.RawExtension, FieldsV1, apiextensions JSON: the input JSON as it was
      return { json: v === undefined ? null : (v as JsonValue), empty: false, zero: v === undefined || v === null };
  }
}

/**
 * Tekton's ParamValue: a string, an array of strings or an object of strings; anything else is kept as the text
 * of its JSON. Go refuses to write a ParamValue that was never set (Chains then fails the whole payload); we
 * write `""` instead, as for `null`.
 */
function paramValue(v: unknown): JsonValue {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  const str = (x: unknown): x is string | null => typeof x === 'string' || x === null;
  if (Array.isArray(v) && v.every(str)) return v.map((x) => x ?? '');
  if (isObject(v) && Object.values(v).every(str)) {
    const out: { [key: string]: JsonValue } = {};
    for (const key of sortedKeys(v)) define(out, key, (v[key] as string | null) ?? '');
    return out;
  }
  return JSON.stringify(v);
}
