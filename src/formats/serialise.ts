// Byte-level serialisation of payloads (spec chains-behaviour.md §3.0).
// Chains marshals statements with Go protojson: compact, no HTML escaping, keys of the predicate
// (a google.protobuf.Struct) sorted at every depth. We reproduce that; the one deliberate choice is
// to never emit the space after `,` that some Go builds insert (§3.0 rule 6, docs/compatibility.md).
import { ChainsmithError } from '../errors.js';
import { MAX_NESTING_DEPTH } from '../input/documents.js';

/** A JSON value as it travels through a google.protobuf.Struct. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

// A lone surrogate comes out of JSON.stringify as `\udXXX`; preceded by an even number of
// backslashes it is a real escape, not text. Go would reject the equivalent (invalid UTF-8).
const LONE_SURROGATE = /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;

/**
 * Serialises a value compactly with the §3.0 string rules (only `"`, `\` and control characters
 * escaped; `<`, `>`, `&` literal). Object members keep the caller's insertion order, so build
 * statements in proto field order and pass predicates through `toStruct` first.
 * Throws ChainsmithError 'PayloadFailed' for text that is not valid Unicode or non-finite numbers.
 */
export function serialise(obj: unknown): Buffer {
  const text = JSON.stringify(obj, rejectNonFinite);
  if (text === undefined) throw new ChainsmithError('PayloadFailed', 'payload is not serialisable');
  if (text.includes('\\ud') && LONE_SURROGATE.test(text)) {
    throw new ChainsmithError('PayloadFailed', 'payload contains text that is not valid UTF-8 (a lone surrogate)');
  }
  return Buffer.from(text, 'utf8');
}

function rejectNonFinite(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new ChainsmithError('PayloadFailed', `payload contains a number JSON cannot carry (${value})`);
  }
  return value;
}

/**
 * Returns a copy of a JSON-like value as a google.protobuf.Struct round-trip leaves it: object keys
 * sorted lexicographically (by UTF-16 code unit, which equals Go's byte order for the BMP-only keys
 * Tekton uses) at every depth, `undefined` members dropped, `null` kept.
 */
export function toStruct(value: unknown, depth = 0): JsonValue {
  if (value === null || value === undefined) return null;
  // Runs are validated before they get here (tekton/validate.ts); this guard keeps the recursion bounded for any
  // other caller. The margin is for the statement's own levels around the run's spec.
  if (depth > MAX_NESTING_DEPTH + 8 && typeof value === 'object') {
    throw new ChainsmithError('PayloadFailed', `payload is nested deeper than ${MAX_NESTING_DEPTH} levels`);
  }
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : toStruct(v, depth + 1)));
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return value;
    case 'object': {
      const src = value as Record<string, unknown>;
      const out: { [key: string]: JsonValue } = {};
      for (const key of sortedKeys(src)) {
        const v = src[key];
        if (v === undefined) continue;
        // a "__proto__" key from JSON is data: define it, as assignment would replace the prototype instead
        const converted = toStruct(v, depth + 1);
        if (key === '__proto__') {
          Object.defineProperty(out, key, { value: converted, enumerable: true, writable: true, configurable: true });
        } else {
          out[key] = converted;
        }
      }
      return out;
    }
    default:
      throw new ChainsmithError('PayloadFailed', `payload contains a ${typeof value}, which JSON cannot carry`);
  }
}

/** The keys of an object in Go's string order (byte-wise on UTF-8), never by locale. */
export function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj).sort();
  // UTF-16 order differs from UTF-8 byte order only between astral characters and U+E000–U+FFFF.
  if (keys.some((k) => /[\ud800-\udfff]/.test(k))) {
    keys.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  }
  return keys;
}
