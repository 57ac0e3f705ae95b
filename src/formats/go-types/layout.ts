// The Go types Chains marshals when it embeds a Tekton object in a payload (a slsa-tekton child TaskRun, a run's
// `runSpec`, a pipeline task's `ref`), as encoding/json sees them: struct fields in declaration order with their
// json names and omitempty/omitzero, and the types with their own MarshalJSON. layout.json is generated from
// Tekton Pipelines' and Kubernetes' Go types at the versions Tekton Chains v0.28.1 builds with
// (scripts/chains-goldens.sh); it holds names and flags, no code.
import LAYOUT from './layout.json' with { type: 'json' };

/** Types with their own JSON encoding (see marshal.ts). */
export const SPECIALS = ['Time', 'VolatileTime', 'Duration', 'Quantity', 'IntOrString', 'ParamValue', 'Raw'] as const;
export type Special = (typeof SPECIALS)[number];

export type GoType =
  | { kind: 'string' | 'bool' | 'int' | 'uint' | 'float' }
  | { kind: 'special'; special: Special }
  | { kind: 'pointer' | 'slice' | 'map'; elem: GoType }
  | { kind: 'struct'; struct: GoStruct };

export interface GoField {
  /** the json name */
  name: string;
  type: GoType;
  omitEmpty: boolean;
  omitZero: boolean;
}

export interface GoStruct {
  name: string;
  fields: GoField[];
  /** json name → field, and lower-cased json name → field (encoding/json matches keys case-insensitively too) */
  exact: Map<string, GoField>;
  folded: Map<string, GoField>;
}

/** The roots chainsmith marshals. */
export type GoRoot = 'TaskRun' | 'TaskRunSpec' | 'PipelineRunSpec' | 'TaskRef';

interface LayoutFile {
  source: string;
  roots: Record<string, string>;
  /** struct name → [json name, type expression, flags] per field */
  types: Record<string, string[][]>;
}

const PRIMITIVES: Record<string, GoType> = {
  string: { kind: 'string' },
  bool: { kind: 'bool' },
  int: { kind: 'int' },
  uint: { kind: 'uint' },
  float32: { kind: 'float' },
  float64: { kind: 'float' },
};

function buildLayout(file: LayoutFile): Map<string, GoStruct> {
  const structs = new Map<string, GoStruct>();
  for (const name of Object.keys(file.types)) {
    structs.set(name, { name, fields: [], exact: new Map(), folded: new Map() });
  }
  const parse = (expr: string): GoType => {
    if (expr.startsWith('*')) return { kind: 'pointer', elem: parse(expr.slice(1)) };
    if (expr.startsWith('[]')) return { kind: 'slice', elem: parse(expr.slice(2)) };
    if (expr.startsWith('map:')) return { kind: 'map', elem: parse(expr.slice(4)) };
    if (expr.startsWith('@')) {
      const special = SPECIALS.find((s) => s === expr.slice(1));
      if (!special) throw new Error(`layout.json: no JSON encoding for Go type ${expr}`);
      return { kind: 'special', special };
    }
    const primitive = PRIMITIVES[expr];
    if (primitive) return primitive;
    const struct = structs.get(expr);
    if (!struct) throw new Error(`layout.json: unknown Go type ${expr}`);
    return { kind: 'struct', struct };
  };
  for (const [name, fields] of Object.entries(file.types)) {
    const struct = structs.get(name)!;
    for (const triple of fields) {
      const [json, expr, flags] = triple;
      if (triple.length !== 3 || json === undefined || expr === undefined || flags === undefined) {
        throw new Error(`layout.json: ${name} has a malformed field ${JSON.stringify(triple)}`);
      }
      const field: GoField = {
        name: json,
        type: parse(expr),
        omitEmpty: flags.includes('o'),
        omitZero: flags.includes('z'),
      };
      struct.fields.push(field);
      struct.exact.set(json, field);
      if (!struct.folded.has(json.toLowerCase())) struct.folded.set(json.toLowerCase(), field);
    }
  }
  return structs;
}

const layout: LayoutFile = LAYOUT;
const STRUCTS = buildLayout(layout);

/** Where the layout comes from: module versions, e.g. `github.com/tektoncd/pipeline@v1.14.0 …`. */
export const LAYOUT_SOURCE: string = layout.source;

/** The Go type of a root, e.g. `TaskRun` → pipeline/v1.TaskRun. */
export function goRootType(root: GoRoot): GoType {
  const name = layout.roots[root];
  const struct = name === undefined ? undefined : STRUCTS.get(name);
  if (!struct) throw new Error(`layout.json has no root ${root}`);
  return { kind: 'struct', struct };
}
