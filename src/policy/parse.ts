// Reading SigningPolicy and SigningPolicyGrant objects from the API server. The CRDs (manifests/crds/) validate them,
// but an older CRD or a hand-made object must not crash the controller: anything that is not the documented shape
// is a ChainsmithError naming the field. Sizes are bounded by the CRDs' own limits. Values the chains-config parser
// judges (format and storage names) are left to it, so that its message is the one a user sees (verdict.ts).
import { ChainsmithError } from '../errors.js';
import { valueLimitProblem } from '../input/documents.js';
import { escapeTerminal } from '../text/terminal.js';
import type {
  Condition,
  LabelSelector,
  PolicySigner,
  SigningPolicy,
  SigningPolicyGrant,
  SigningPolicyGrantSpec,
  SigningPolicySpec,
} from './types.js';

/** The CRDs' limits (maxLength, maxItems, maxProperties). */
export const POLICY_LIMITS = {
  name: 253,
  namespace: 63,
  labelKey: 317,
  labelValue: 63,
  selectorEntries: 32,
  selectorValues: 64,
  uri: 1024,
  format: 64,
  storageNames: 7,
  storageName: 32,
  ociRepository: 255,
  grantItems: 256,
  labels: 1024,
  conditions: 8,
} as const;

type Obj = Record<string, unknown>;
type Fail = (path: string, problem: string) => ChainsmithError;

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
const TRANSPARENCY = ['true', 'false', 'manual'] as const;

/** Reads a SigningPolicy; throws ChainsmithError('InvalidConfig') naming the first field that is wrong. */
export function readSigningPolicy(obj: unknown): SigningPolicy {
  const top = readTop(obj, 'SigningPolicy');
  let fail: Fail = failer('SigningPolicy');
  const meta = object(field(top, 'metadata'), 'metadata', fail);
  const name = string(field(meta, 'name'), 'metadata.name', POLICY_LIMITS.name, fail);
  const namespace = string(field(meta, 'namespace'), 'metadata.namespace', POLICY_LIMITS.namespace, fail);
  fail = failer(`SigningPolicy ${namespace}/${name}`);
  const metadata: SigningPolicy['metadata'] = { name, namespace, ...commonMetadata(meta, fail) };
  const labels = optional(field(meta, 'labels'), (v) => stringMap(v, 'metadata.labels', POLICY_LIMITS.labels, fail));
  if (labels) metadata.labels = labels;
  const policy: SigningPolicy = {
    ...typeFields(top, 'SigningPolicy', fail),
    metadata,
    spec: readPolicySpec(top, fail),
  };
  const status = readStatus(field(top, 'status'));
  if (status) policy.status = status;
  return policy;
}

/** Reads a SigningPolicyGrant; throws ChainsmithError('InvalidConfig') naming the first field that is wrong. */
export function readSigningPolicyGrant(obj: unknown): SigningPolicyGrant {
  const top = readTop(obj, 'SigningPolicyGrant');
  let fail: Fail = failer('SigningPolicyGrant');
  const meta = object(field(top, 'metadata'), 'metadata', fail);
  const name = string(field(meta, 'name'), 'metadata.name', POLICY_LIMITS.name, fail);
  fail = failer(`SigningPolicyGrant ${name}`);
  const spec = object(field(top, 'spec'), 'spec', fail);
  const list = (key: string, max: number) =>
    optional(field(spec, key), (v) => stringList(v, `spec.${key}`, POLICY_LIMITS.grantItems, max, fail));
  const namespaces = stringList(
    field(spec, 'namespaces'),
    'spec.namespaces',
    POLICY_LIMITS.grantItems,
    POLICY_LIMITS.namespace,
    fail,
  );
  if (namespaces.length === 0) throw fail('spec.namespaces', 'must list at least one namespace');
  // a wildcard would grant every namespace, present and future: refused, never read as "all"
  if (namespaces.includes('*')) throw fail('spec.namespaces', 'must name namespaces; "*" is not accepted');
  const grantSpec: SigningPolicyGrantSpec = { namespaces };
  const fields = [
    ['secrets', POLICY_LIMITS.name],
    ['kmsRefs', POLICY_LIMITS.uri],
    ['serviceAccounts', POLICY_LIMITS.name],
    ['builderIds', POLICY_LIMITS.uri],
  ] as const;
  for (const [key, max] of fields) {
    const values = list(key, max);
    if (values) grantSpec[key] = values;
  }
  return {
    ...typeFields(top, 'SigningPolicyGrant', fail),
    metadata: { name, ...commonMetadata(meta, fail) },
    spec: grantSpec,
  };
}

function readPolicySpec(top: Obj, fail: Fail): SigningPolicySpec {
  const spec = object(field(top, 'spec'), 'spec', fail);
  const out: SigningPolicySpec = {};
  const selector = optional(field(spec, 'selector'), (v) => readSelector(v, fail));
  if (selector) out.selector = selector;
  const signer = optional(field(spec, 'signer'), (v) => readSigner(v, fail));
  if (signer) out.signer = signer;
  const builderId = optional(field(spec, 'builderId'), (v) => string(v, 'spec.builderId', POLICY_LIMITS.uri, fail));
  if (builderId !== undefined) out.builderId = builderId;
  const formats = optional(field(spec, 'formats'), (v) => object(v, 'spec.formats', fail));
  if (formats) {
    out.formats = {};
    for (const type of ['taskrun', 'pipelinerun', 'oci'] as const) {
      const path = `spec.formats.${type}`;
      const format = optional(field(formats, type), (v) => string(v, path, POLICY_LIMITS.format, fail));
      if (format !== undefined) out.formats[type] = format;
    }
  }
  const storage = optional(field(spec, 'storage'), (v) => object(v, 'spec.storage', fail));
  if (storage) {
    out.storage = {};
    for (const type of ['taskrun', 'pipelinerun', 'oci'] as const) {
      const path = `spec.storage.${type}`;
      const read = (v: unknown) => stringList(v, path, POLICY_LIMITS.storageNames, POLICY_LIMITS.storageName, fail);
      const names = optional(field(storage, type), read);
      if (!names) continue;
      // joined with commas for chains-config: a comma inside one name would smuggle in a second backend
      const bad = names.find((n) => n.includes(','));
      if (bad !== undefined) throw fail(path, `holds ${show(bad)}; list one backend name per item`);
      out.storage[type] = names;
    }
    const path = 'spec.storage.ociRepository';
    const repo = optional(field(storage, 'ociRepository'), (v) => string(v, path, POLICY_LIMITS.ociRepository, fail));
    if (repo !== undefined) out.storage.ociRepository = repo;
  }
  const transparency = field(spec, 'transparency');
  if (transparency !== undefined) {
    if (!TRANSPARENCY.includes(transparency as (typeof TRANSPARENCY)[number]))
      throw fail('spec.transparency', `must be "true", "false" or "manual", got ${show(transparency)}`);
    out.transparency = transparency as (typeof TRANSPARENCY)[number];
  }
  return out;
}

function readSelector(value: unknown, fail: Fail): LabelSelector {
  const sel = object(value, 'spec.selector', fail);
  const out: LabelSelector = {};
  const path = 'spec.selector.matchLabels';
  const matchLabels = optional(field(sel, 'matchLabels'), (v) =>
    stringMap(v, path, POLICY_LIMITS.selectorEntries, fail),
  );
  if (matchLabels) {
    for (const [k, v] of Object.entries(matchLabels)) {
      checkLength(k, `${path} key`, POLICY_LIMITS.labelKey, fail);
      checkLength(v, `${path}.${k}`, POLICY_LIMITS.labelValue, fail);
    }
    out.matchLabels = matchLabels;
  }
  const exprs = optional(field(sel, 'matchExpressions'), (v) =>
    list(v, 'spec.selector.matchExpressions', POLICY_LIMITS.selectorEntries, fail),
  );
  if (exprs)
    out.matchExpressions = exprs.map((e, i) => readRequirement(e, `spec.selector.matchExpressions[${i}]`, fail));
  return out;
}

function readRequirement(
  value: unknown,
  path: string,
  fail: Fail,
): NonNullable<LabelSelector['matchExpressions']>[number] {
  const r = object(value, path, fail);
  const key = string(field(r, 'key'), `${path}.key`, POLICY_LIMITS.labelKey, fail);
  const operator = field(r, 'operator');
  if (!OPERATORS.includes(operator as (typeof OPERATORS)[number]))
    throw fail(`${path}.operator`, `must be one of ${OPERATORS.join(', ')}, got ${show(operator)}`);
  const op = operator as (typeof OPERATORS)[number];
  const read = (v: unknown) =>
    stringList(v, `${path}.values`, POLICY_LIMITS.selectorValues, POLICY_LIMITS.labelValue, fail, true);
  const values = optional(field(r, 'values'), read) ?? [];
  if ((op === 'In' || op === 'NotIn') && values.length === 0)
    throw fail(`${path}.values`, `operator ${op} needs at least one value`);
  if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
    throw fail(`${path}.values`, `operator ${op} must not have values`);
  return values.length > 0 ? { key, operator: op, values } : { key, operator: op };
}

function readSigner(value: unknown, fail: Fail): PolicySigner {
  const signer = object(value, 'spec.signer', fail);
  const set = (['x509', 'kms', 'keyless'] as const).filter((k) => field(signer, k) !== undefined);
  if (set.length !== 1) {
    const got = set.length === 0 ? 'it sets none' : `it sets ${set.join(' and ')}`;
    throw fail('spec.signer', `must set exactly one of x509, kms or keyless; ${got}`);
  }
  const kind = set[0]!;
  const body = object(field(signer, kind), `spec.signer.${kind}`, fail);
  if (kind === 'x509') {
    return {
      x509: { secretName: string(field(body, 'secretName'), 'spec.signer.x509.secretName', POLICY_LIMITS.name, fail) },
    };
  }
  if (kind === 'kms')
    return { kms: { ref: string(field(body, 'ref'), 'spec.signer.kms.ref', POLICY_LIMITS.uri, fail) } };
  const sa = string(field(body, 'serviceAccount'), 'spec.signer.keyless.serviceAccount', POLICY_LIMITS.name, fail);
  const audience = optional(field(body, 'audience'), (v) =>
    string(v, 'spec.signer.keyless.audience', POLICY_LIMITS.name, fail),
  );
  return { keyless: audience === undefined ? { serviceAccount: sa } : { serviceAccount: sa, audience } };
}

/** The status as the controller wrote it; what is not its shape is dropped (the controller writes it again). */
function readStatus(value: unknown): SigningPolicy['status'] {
  if (!isObject(value)) return undefined;
  const status: NonNullable<SigningPolicy['status']> = {};
  const generation = field(value, 'observedGeneration');
  if (isGeneration(generation)) status.observedGeneration = generation;
  const signer = field(value, 'signer');
  if (typeof signer === 'string') status.signer = signer;
  const conditions = field(value, 'conditions');
  if (Array.isArray(conditions)) {
    const read: Condition[] = [];
    for (const c of conditions.slice(0, POLICY_LIMITS.conditions)) {
      const condition = readCondition(c);
      if (condition && !read.some((r) => r.type === condition.type)) read.push(condition);
    }
    status.conditions = read;
  }
  return status;
}

function readCondition(value: unknown): Condition | undefined {
  if (!isObject(value)) return undefined;
  const [type, status, reason, message, lastTransitionTime] = [
    'type',
    'status',
    'reason',
    'message',
    'lastTransitionTime',
  ].map((k) => field(value, k));
  if (type !== 'Ready' && type !== 'Conflict') return undefined;
  if (status !== 'True' && status !== 'False' && status !== 'Unknown') return undefined;
  if (typeof reason !== 'string' || typeof message !== 'string' || typeof lastTransitionTime !== 'string')
    return undefined;
  const condition: Condition = { type, status, reason, message, lastTransitionTime };
  const generation = field(value, 'observedGeneration');
  if (isGeneration(generation)) condition.observedGeneration = generation;
  return condition;
}

// --- the shared readers ---

function failer(subject: string): Fail {
  // names come from the object: escaped, as a hand-made one may hold control characters
  return (path, problem) => new ChainsmithError('InvalidConfig', `${escapeTerminal(subject)}: ${path} ${problem}`);
}

/** The object itself, within the document limits of input/ before any field is read. */
function readTop(obj: unknown, kind: string): Obj {
  if (!isObject(obj)) throw new ChainsmithError('InvalidConfig', `${kind}: not an object (got ${typeName(obj)})`);
  const problem = valueLimitProblem(obj);
  if (problem) throw new ChainsmithError('InvalidConfig', `${kind}: ${problem}`);
  return obj;
}

function typeFields(top: Obj, kind: string, fail: Fail): { apiVersion?: string; kind?: string } {
  const out: { apiVersion?: string; kind?: string } = {};
  const apiVersion = optional(field(top, 'apiVersion'), (v) => string(v, 'apiVersion', POLICY_LIMITS.name, fail));
  if (apiVersion !== undefined) out.apiVersion = apiVersion;
  const k = field(top, 'kind');
  if (k !== undefined) {
    if (k !== kind) throw fail('kind', `must be ${kind}, got ${show(k)}`);
    out.kind = kind;
  }
  return out;
}

function commonMetadata(meta: Obj, fail: Fail): { uid?: string; generation?: number; resourceVersion?: string } {
  const out: { uid?: string; generation?: number; resourceVersion?: string } = {};
  const uid = optional(field(meta, 'uid'), (v) => string(v, 'metadata.uid', POLICY_LIMITS.name, fail));
  if (uid !== undefined) out.uid = uid;
  const rv = optional(field(meta, 'resourceVersion'), (v) =>
    string(v, 'metadata.resourceVersion', POLICY_LIMITS.name, fail),
  );
  if (rv !== undefined) out.resourceVersion = rv;
  const generation = field(meta, 'generation');
  if (generation !== undefined) {
    if (!isGeneration(generation))
      throw fail('metadata.generation', `must be a whole number ≥ 0, got ${show(generation)}`);
    out.generation = generation;
  }
  return out;
}

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isGeneration(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** An own field; null counts as absent, as the API server prunes it. */
function field(o: Obj, key: string): unknown {
  const v = Object.hasOwn(o, key) ? o[key] : undefined;
  return v === null ? undefined : v;
}

function optional<T>(v: unknown, read: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : read(v);
}

function object(v: unknown, path: string, fail: Fail): Obj {
  if (v === undefined) throw fail(path, 'is missing');
  if (!isObject(v)) throw fail(path, `must be an object, got ${typeName(v)}`);
  return v;
}

function list(v: unknown, path: string, maxItems: number, fail: Fail): unknown[] {
  if (v === undefined) throw fail(path, 'is missing');
  if (!Array.isArray(v)) throw fail(path, `must be a list, got ${typeName(v)}`);
  if (v.length > maxItems) throw fail(path, `holds ${v.length} items, more than ${maxItems} (the limit)`);
  return v;
}

/** A non-empty string of at most `max` characters (`allowEmpty`: label values may be ""). */
function string(v: unknown, path: string, max: number, fail: Fail, allowEmpty = false): string {
  if (v === undefined) throw fail(path, 'is missing');
  if (typeof v !== 'string') throw fail(path, `must be a string, got ${typeName(v)}`);
  if (v === '' && !allowEmpty) throw fail(path, 'must not be empty');
  checkLength(v, path, max, fail);
  return v;
}

function checkLength(v: string, path: string, max: number, fail: Fail): void {
  if (v.length > max) throw fail(path, `is ${v.length} characters long, more than ${max} (the limit)`);
}

function stringList(v: unknown, path: string, maxItems: number, max: number, fail: Fail, allowEmpty = false): string[] {
  return list(v, path, maxItems, fail).map((item, i) => string(item, `${path}[${i}]`, max, fail, allowEmpty));
}

function stringMap(v: unknown, path: string, maxKeys: number, fail: Fail): Record<string, string> {
  const o = object(v, path, fail);
  const keys = Object.keys(o);
  if (keys.length > maxKeys) throw fail(path, `holds ${keys.length} entries, more than ${maxKeys} (the limit)`);
  const out: Record<string, string> = {};
  for (const k of keys) {
    const value = o[k];
    if (typeof value !== 'string') throw fail(`${path}[${show(k)}]`, `must be a string, got ${typeName(value)}`);
    // defineProperty: a key named __proto__ stays a plain entry
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function typeName(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${show(v)}`;
}

/** A value for a message: JSON (control characters escaped), cut short. */
function show(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
