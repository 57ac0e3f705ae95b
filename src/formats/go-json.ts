// Go `encoding/json` output for the few places where Chains' bytes are produced by it rather than
// by protojson: base64 `content` blobs (byproducts, slsa-tekton pipelineTask descriptors) and the
// simplesigning payload. Differences from §3.0: HTML characters and U+2028/U+2029 are escaped.
import { goRoundTrip } from './go-types/marshal.js';
import type { GoRoot } from './go-types/layout.js';
import { toStruct } from './serialise.js';

const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * Marshals a JSON-like value the way Go's json.Marshal marshals the equivalent map/slice values:
 * compact, map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped. Object key order is sorted
 * because the Go values involved (ParamValue objects, maps) are maps, whose keys Go sorts.
 */
export function goJsonMarshal(value: unknown): string {
  return goJsonEscape(JSON.stringify(toStruct(value)));
}

/**
 * Marshals a Tekton object the way Go's json.Marshal writes its Go type (`root`) after json.Unmarshal read it:
 * struct field order, Go's zero values and omitempty rules, whole-second times (see go-types/marshal.ts).
 */
export function goJsonMarshalAs(value: unknown, root: GoRoot): string {
  return goJsonEscape(JSON.stringify(goRoundTrip(value, root)));
}

/**
 * Applies Go's extra escapes to compact JSON text. Safe on whole documents: these characters can
 * only occur inside string literals. Lone surrogates (invalid UTF-8 in Go) become U+FFFD as Go does.
 */
export function goJsonEscape(json: string): string {
  return json
    .replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? c)
    .replace(/(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g, '$1\\ufffd');
}
