// Storage backend `grafeas` (spec §4.4): notes and occurrences in the grafeas.v1 API of Container Analysis
// (`containeranalysis.googleapis.com`, Application Default Credentials, as Chains' pkg/chains/storage/grafeas), through
// Google's official client, loaded only when a config uses the backend.
// - image signatures (simplesigning): ATTESTATION note `<noteid>-simplesigning` and one occurrence for the image
//   (`resourceUri` = FullKey) holding the payload and raw signature;
// - run attestations (in-toto): BUILD note `<noteid>-<taskrun|pipelinerun>-intoto` and one occurrence per subject
//   digest (`name@alg:hex`), holding the statement in Grafeas' in-toto proto and an envelope whose `sig` is, as in
//   Chains, the whole DSSE envelope JSON;
// - `keyid`/`publicKeyId` = `signers.kms.kmsref` ("" without one), as Chains.
// Two differences: the default note id `tekton-<namespace>` is computed per run (Chains freezes the first run's
// namespace for every later run), and a retried store does not create a second identical occurrence (Chains does).
import type { Logger } from 'winston';
import type { GrafeasClient, protos } from '@google-cloud/grafeas';
import { ChainsmithError, messageOf } from '../errors.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../sigstore/dsse.js';
import { SIMPLESIGNING_LAYER } from '../sigstore/media-types.js';
import type { Storer, StoreRequest, StoreResult } from './storer.js';

type IOccurrence = protos.grafeas.v1.IOccurrence;
type INote = protos.grafeas.v1.INote;
type IInTotoStatement = protos.grafeas.v1.IInTotoStatement;
type IStruct = protos.google.protobuf.IStruct;
type IValue = protos.google.protobuf.IValue;
type ITimestamp = protos.google.protobuf.ITimestamp;

/** Options of Google's client (endpoint, port, credentials); tests point it at a loopback stand-in. */
export type GrafeasClientOptions = NonNullable<ConstructorParameters<typeof GrafeasClient>[0]>;

/** Where the grafeas.v1 API is; every field defaults to Chains' (Container Analysis over TLS, ADC). */
export interface GrafeasConnection {
  /** host of the API; default `containeranalysis.googleapis.com` */
  apiEndpoint?: string;
  /** default 443 */
  port?: number;
  /** gRPC channel credentials; default TLS with Application Default Credentials (tests: createInsecure()) */
  sslCreds?: GrafeasClientOptions['sslCreds'];
  /** an auth client other than Application Default Credentials (tests: an OAuth2Client holding a token) */
  authClient?: GrafeasClientOptions['authClient'];
  /** deadline of each call in milliseconds (default 30 s, the client's own); the client's own retries are off */
  timeoutMs?: number;
}

export interface GrafeasStorerOptions extends GrafeasConnection {
  logger?: Logger;
}

/** Chains' OAuth scope for the grafeas connection. */
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const DEFAULT_TIMEOUT_MS = 30_000;
/** gRPC status codes by number (the client reports numbers). */
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;
const ALREADY_EXISTS = 6;
const TRANSIENT = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'INTERNAL']);
/** `resourceUrl` terms per ListNoteOccurrences filter (a PipelineRun can have many subjects) */
const URIS_PER_FILTER = 20;

/** Opens Google's grafeas.v1 client (grpc transport), importing the library on first use. */
export async function openGrafeasClient(conn: GrafeasConnection = {}): Promise<GrafeasClient> {
  const mod = await import('@google-cloud/grafeas');
  const options: GrafeasClientOptions = { scopes: [CLOUD_PLATFORM_SCOPE] };
  if (conn.apiEndpoint !== undefined) options.apiEndpoint = conn.apiEndpoint;
  if (conn.port !== undefined) options.port = conn.port;
  if (conn.sslCreds !== undefined) options.sslCreds = conn.sslCreds;
  if (conn.authClient !== undefined) options.authClient = conn.authClient;
  return new mod.GrafeasClient(options);
}

/** Per-call options: one attempt with a deadline; the controller's retries decide what happens next. */
export function grafeasCallOptions(conn: GrafeasConnection): { timeout: number; retry: null } {
  return { timeout: conn.timeoutMs ?? DEFAULT_TIMEOUT_MS, retry: null };
}

/** The note a stored object belongs to, and what kind of object it is. */
export interface GrafeasTarget {
  projectPath: string;
  noteId: string;
  noteName: string;
  /** `image` for image signatures, else the run kind in lower case */
  object: 'image' | 'taskrun' | 'pipelinerun';
}

/**
 * Project and note of one stored object. The default note id `tekton-<namespace>` is the run's own namespace (Chains
 * keeps the first run's for all). Throws InvalidConfig without `storage.grafeas.projectid`.
 */
export function grafeasTarget(
  config: StoreRequest['config'],
  namespace: string,
  object: GrafeasTarget['object'],
): GrafeasTarget {
  const g = config.storage.grafeas;
  if (!g.projectId) {
    throw new ChainsmithError(
      'InvalidConfig',
      'grafeas: storage.grafeas.projectid must be set in chains-config to use the grafeas storage backend',
    );
  }
  const prefix = g.noteId || `tekton-${namespace}`;
  const noteId = object === 'image' ? `${prefix}-simplesigning` : `${prefix}-${object}-intoto`;
  const projectPath = `projects/${g.projectId}`;
  return { projectPath, noteId, noteName: `${projectPath}/notes/${noteId}`, object };
}

/** `image` when the request stores an image signature (its short key is digest hex, not `taskrun-…`). */
export function objectOf(req: Pick<StoreRequest, 'run' | 'shortKey'>): GrafeasTarget['object'] {
  if (req.shortKey.startsWith('taskrun-') || req.shortKey.startsWith('pipelinerun-')) {
    return req.run.kind === 'TaskRun' ? 'taskrun' : 'pipelinerun';
  }
  return 'image';
}

/** The `grafeas` backend. */
export class GrafeasStorer implements Storer {
  readonly name = 'grafeas';
  private client?: Promise<GrafeasClient>;

  constructor(private readonly opts: GrafeasStorerOptions = {}) {}

  async store(req: StoreRequest): Promise<StoreResult> {
    const target = grafeasTarget(req.config, req.run.metadata.namespace ?? '', objectOf(req));
    const keyid = req.config.signers.kms.kmsref ?? '';
    const wanted =
      target.object === 'image' ? [attestationOccurrence(req, target, keyid)] : buildOccurrences(req, target, keyid);
    const client = await this.open();
    const call = grafeasCallOptions(this.opts);

    await this.createNote(client, target, noteFor(req, target), call);
    const existing = await this.existing(
      client,
      target,
      wanted.map((o) => o.resourceUri!),
      call,
    );
    const created: string[] = [];
    let kept = 0;
    for (const occ of wanted) {
      if (existing.some((e) => sameOccurrence(e, occ))) {
        kept++;
        continue;
      }
      const [res] = await guarded(`creating an occurrence for ${occ.resourceUri} in ${target.projectPath}`, () =>
        client.createOccurrence({ parent: target.projectPath, occurrence: occ }, call),
      );
      created.push(res.name ?? '');
    }
    this.opts.logger?.info('grafeas store', { key: req.fullKey, note: target.noteName, created, kept });
    if (wanted.length === 0) {
      return { notes: [`grafeas: no occurrence for ${req.fullKey}: the statement has no subjects`] };
    }
    return {};
  }

  /** Closes the gRPC channel (when the config changes and the storer is replaced). */
  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await (await c).close();
  }

  private open(): Promise<GrafeasClient> {
    this.client ??= openGrafeasClient(this.opts).catch((err: unknown) => {
      this.client = undefined;
      throw new ChainsmithError('StorageFailed', `grafeas: loading the client: ${messageOf(err)}`, { cause: err });
    });
    return this.client;
  }

  /** CreateNote every time, as Chains: ALREADY_EXISTS means a previous store (or Chains) made it. */
  private async createNote(
    client: GrafeasClient,
    target: GrafeasTarget,
    note: INote,
    call: ReturnType<typeof grafeasCallOptions>,
  ): Promise<void> {
    try {
      await client.createNote({ parent: target.projectPath, noteId: target.noteId, note }, call);
    } catch (err) {
      if (codeOf(err) === ALREADY_EXISTS) return;
      throw storageFailure(`creating note ${target.noteName}`, err);
    }
  }

  /** The occurrences of the note already stored for these resources (Chains' own `resourceUrl` filter). */
  private async existing(
    client: GrafeasClient,
    target: GrafeasTarget,
    uris: string[],
    call: ReturnType<typeof grafeasCallOptions>,
  ): Promise<IOccurrence[]> {
    const out: IOccurrence[] = [];
    const unique = [...new Set(uris)];
    for (let i = 0; i < unique.length; i += URIS_PER_FILTER) {
      const filter = unique
        .slice(i, i + URIS_PER_FILTER)
        .map((u) => `resourceUrl=${JSON.stringify(u)}`)
        .join(' OR ');
      const [page] = await guarded(`listing occurrences of ${target.noteName}`, () =>
        client.listNoteOccurrences({ name: target.noteName, filter }, call),
      );
      out.push(...page);
    }
    return out;
  }
}

/** Builds the `grafeas` storer (`buildStorers`). */
export function createGrafeasStorer(opts: GrafeasStorerOptions = {}): GrafeasStorer {
  return new GrafeasStorer(opts);
}

function noteFor(req: StoreRequest, target: GrafeasTarget): INote {
  if (target.object === 'image') {
    return {
      shortDescription: 'OCI Artifact Attestation Note',
      attestation: { hint: { humanReadableName: req.config.storage.grafeas.noteHint } },
    };
  }
  // Chains' text, for PipelineRuns too.
  return {
    shortDescription: 'Build Provenance Note for TaskRun',
    build: { builderVersion: `${req.run.apiVersion}/${req.run.kind}` },
  };
}

function attestationOccurrence(req: StoreRequest, target: GrafeasTarget, keyid: string): IOccurrence {
  const { payload, signature } = req.signed;
  return {
    resourceUri: req.fullKey,
    noteName: target.noteName,
    attestation: { serializedPayload: payload, signatures: [{ signature, publicKeyId: keyid }] },
    envelope: {
      payload,
      payloadType: req.payload.kind === 'in-toto' ? IN_TOTO_PAYLOAD_TYPE : SIMPLESIGNING_LAYER,
      signatures: [{ sig: signature, keyid }],
    },
  };
}

function buildOccurrences(req: StoreRequest, target: GrafeasTarget, keyid: string): IOccurrence[] {
  const { payload, signature } = req.signed;
  const statement = parseStatement(payload);
  const intotoStatement = statementToProto(statement);
  return artifactUris(statement).map((resourceUri) => ({
    resourceUri,
    noteName: target.noteName,
    build: { intotoStatement },
    envelope: { payload, payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: signature, keyid }] },
  }));
}

/** Same resource, note, payload and signature: a retry of a store that already reached the server. */
function sameOccurrence(have: IOccurrence, want: IOccurrence): boolean {
  if (have.resourceUri !== want.resourceUri || have.noteName !== want.noteName) return false;
  const hp = have.envelope?.payload;
  const wp = want.envelope?.payload;
  if (!hp || !wp || !Buffer.from(hp).equals(Buffer.from(wp))) return false;
  const wantSig = want.envelope?.signatures?.[0]?.sig;
  return (
    !!wantSig &&
    (have.envelope?.signatures ?? []).some((s) => !!s.sig && Buffer.from(s.sig).equals(Buffer.from(wantSig)))
  );
}

// ---- the in-toto statement in Grafeas' proto (grafeas go/utils/intoto ToProto) ----

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function storeError(message: string): ChainsmithError {
  return new ChainsmithError('StorageFailed', `grafeas: ${message}`);
}

function parseStatement(payload: Buffer): JsonObject {
  let v: Json;
  try {
    v = JSON.parse(payload.toString('utf8')) as Json;
  } catch (err) {
    throw storeError(`the payload is not an in-toto statement: ${messageOf(err)}`);
  }
  if (!isObject(v)) throw storeError('the payload is not an in-toto statement: not a JSON object');
  return v;
}

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `name@alg:hex` per subject and digest, as Chains' RetrieveAllArtifactURIs (duplicates once). */
export function artifactUris(statement: JsonObject): string[] {
  const uris = new Set<string>();
  for (const s of subjectsOf(statement))
    for (const [alg, hex] of Object.entries(s.digest)) uris.add(`${s.name}@${alg}:${hex}`);
  return [...uris];
}

function subjectsOf(statement: JsonObject): Array<{ name: string; digest: Record<string, string> }> {
  const subjects = statement.subject;
  if (subjects === undefined || subjects === null) return [];
  if (!Array.isArray(subjects)) throw storeError('the statement subject is not a list');
  return subjects.map((s) => {
    if (!isObject(s)) throw storeError('a statement subject is not an object');
    return { name: str(s.name, 'subject name'), digest: stringMap(s.digest, 'subject digest') };
  });
}

function str(v: Json | undefined, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw storeError(`the statement's ${what} is not a string`);
  return v;
}

function stringMap(v: Json | undefined, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw storeError(`the statement's ${what} is not an object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) out[k] = str(x, what);
  return out;
}

/**
 * Chains unmarshals every statement into a SLSA v0.2 ProvenanceStatement and converts that; so does this. A SLSA v1
 * predicate (slsa/v2alpha3, v2alpha4) shares none of its fields and comes out as an empty v0.2 predicate, as in
 * Chains; the full statement is in the occurrence's envelope payload.
 */
export function statementToProto(statement: JsonObject): IInTotoStatement {
  const predicate = isObject(statement.predicate) ? statement.predicate : {};
  const invocation = isObject(predicate.invocation) ? predicate.invocation : {};
  const configSource = isObject(invocation.configSource) ? invocation.configSource : {};
  const builder = isObject(predicate.builder) ? predicate.builder : {};
  const materials = Array.isArray(predicate.materials) ? predicate.materials : [];
  return {
    type: str(statement._type, '_type'),
    subject: subjectsOf(statement),
    predicateType: str(statement.predicateType, 'predicateType'),
    slsaProvenanceZeroTwo: {
      builder: { id: str(builder.id, 'builder id') },
      buildType: str(predicate.buildType, 'buildType'),
      invocation: {
        configSource: {
          uri: str(configSource.uri, 'configSource uri'),
          digest: stringMap(configSource.digest, 'configSource digest'),
          entryPoint: str(configSource.entryPoint, 'configSource entryPoint'),
        },
        ...optionalStruct('parameters', invocation.parameters),
        ...optionalStruct('environment', invocation.environment),
      },
      ...optionalStruct('buildConfig', predicate.buildConfig),
      ...(isObject(predicate.metadata) ? { metadata: metadataToProto(predicate.metadata) } : {}),
      materials: materials.map((m) => {
        const mo = isObject(m) ? m : {};
        return { uri: str(mo.uri, 'material uri'), digest: stringMap(mo.digest, 'material digest') };
      }),
    },
  };
}

function metadataToProto(m: JsonObject): protos.grafeas.v1.SlsaProvenanceZeroTwo.ISlsaMetadata {
  const c = isObject(m.completeness) ? m.completeness : {};
  const started = timestamp(m.buildStartedOn, 'buildStartedOn');
  const finished = timestamp(m.buildFinishedOn, 'buildFinishedOn');
  return {
    buildInvocationId: str(m.buildInvocationId, 'buildInvocationId'),
    ...(started ? { buildStartedOn: started } : {}),
    ...(finished ? { buildFinishedOn: finished } : {}),
    completeness: {
      parameters: c.parameters === true,
      environment: c.environment === true,
      materials: c.materials === true,
    },
    reproducible: m.reproducible === true,
  };
}

/** An RFC 3339 time as a protobuf Timestamp (nanoseconds kept); Go's time.Time refuses other forms. */
function timestamp(v: Json | undefined, what: string): ITimestamp | undefined {
  if (v === undefined || v === null) return undefined;
  const m =
    typeof v === 'string' ? /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i.exec(v) : null;
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw storeError(`the statement's ${what} is not an RFC 3339 time`);
  return { seconds: Math.floor(ms / 1000), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

/** A JSON object field as google.protobuf.Struct; absent or null → left out (Go: nil). */
function optionalStruct(field: string, v: Json | undefined): Record<string, IStruct> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw storeError(`the statement's ${field} is not a JSON object`);
  return { [field]: toStruct(v) };
}

function toStruct(o: JsonObject): IStruct {
  const fields: Record<string, IValue> = {};
  for (const [k, v] of Object.entries(o)) fields[k] = toValue(v);
  return { fields };
}

function toValue(v: Json): IValue {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStruct(v) };
}

// ---- failures ----

function codeOf(err: unknown): number | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? c : undefined;
}

/** A failed call as StorageFailed with the gRPC status and message; transient for the statuses worth retrying. */
export function storageFailure(what: string, err: unknown): ChainsmithError {
  if (err instanceof ChainsmithError) return err;
  const code = codeOf(err);
  const status = code === undefined ? undefined : (STATUS_NAMES[code] ?? `status ${code}`);
  const details = (err as { details?: unknown } | null)?.details;
  const message = typeof details === 'string' && details ? details : messageOf(err);
  return new ChainsmithError('StorageFailed', `grafeas: ${what}: ${status ? `${status}: ` : ''}${message}`, {
    transient: status !== undefined && TRANSIENT.has(status),
    cause: err,
  });
}

async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storageFailure(what, err);
  }
}
