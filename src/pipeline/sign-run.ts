// The signing pipeline for one run (spec §1.5), as small steps: extract the run's artifacts once (type hinting:
// subjects, images, findings), plan the objects to sign (which types, which objects), then for each object create
// the payload, sign it and store it in every configured backend. The formats and the image signer share the one
// extraction. When transparency applies (spec §6.1) each signature is uploaded to Rekor after signing and before
// storing, so storage can attach the entry and a run is never marked signed without it. No Kubernetes writes happen
// here: the `tekton` backend returns annotations and the reconciler writes them with the mark.
import type { ChainsConfig, RunFormat, SignerName, StorageName } from '../config/types.js';
import { ChainsmithError, messageOf, reasonOf } from '../errors.js';
import type { Extraction, Finding, ImageReference } from '../artifacts/types.js';
import type { FormatInput, Payload, PayloadFormat } from '../formats/types.js';
import type { ImageFormat } from '../formats/index.js';
import type { SignOptions, Signer, SignedPayload } from '../signing/signer.js';
import type { Storer } from '../storage/storer.js';
import type { Run, TaskRun } from '../tekton/types.js';
import type { ControllerMetrics, SigningErrorType } from '../observability/metrics.js';
import { mergeFindings } from '../artifacts/findings.js';
import { extractArtifacts } from '../artifacts/index.js';
import { enabledTypesFor } from '../config/parse.js';
import { runShortKey, TRANSPARENCY_ANNOTATION, TRANSPARENCY_UPLOAD_ANNOTATION } from '../tekton/annotations.js';
import { proposedEntry, transparencyEntryUrl, verifierPem, type TlogEntry } from '../sigstore/rekor.js';
import type { ProposedEntry } from '@sigstore/rekor-types';
import { memoKey, type Remembered, type SignatureMemo } from './signature-memo.js';

export type ArtifactType = 'taskrun' | 'pipelinerun' | 'oci';

/** One thing to sign: a run attestation or an image signature. */
export interface SignObject {
  input: FormatInput;
  format: RunFormat | ImageFormat;
  shortKey: string;
  fullKey: string;
  /** for messages: "TaskRun attestation", "image 127.0.0.1:5000/app@sha256:…" */
  label: string;
}

/** The objects of one enabled artifact type. */
export interface ArtifactPlan {
  type: ArtifactType;
  signer: Exclude<SignerName, 'none'>;
  storage: StorageName[];
  objects: SignObject[];
}

/** What the pipeline needs from the rest of chainsmith (injected, so it can be tested without I/O). */
export interface SigningDeps {
  formatFor(name: RunFormat | ImageFormat): PayloadFormat;
  signer(name: 'x509' | 'kms', config: ChainsConfig): Promise<Signer>;
  sign(signer: Signer, payload: Payload, opts?: SignOptions): Promise<SignedPayload>;
  /** the storers built for the current config */
  storers(): ReadonlyMap<StorageName, Storer>;
  /**
   * The images to sign for the images a TaskRun's results name: the same list, plus the platform manifests of
   * image indexes when `chainsmith.sign-platform-images` is on (that needs the registry).
   */
  imagesToSign(run: TaskRun, images: ImageReference[], config: ChainsConfig): Promise<ImageReference[]>;
  /**
   * Uploads one entry to the Rekor log at `url` (`transparency.url`); throws TransparencyFailed. Required when
   * transparency is enabled.
   */
  uploadTlog?(url: string, entry: ProposedEntry): Promise<TlogEntry>;
  /**
   * Records a signature with the services of the sigstore signing config at `file` (`chainsmith.signing-config`): its
   * Rekor (v1 or v2) and, when it names one, its timestamp authority (the timestamps travel on the entry). Throws
   * TransparencyFailed, or InvalidConfig for a file it cannot use. Required when that key is set.
   */
  witness?(
    file: string,
    kind: 'simplesigning' | 'in-toto',
    signed: SignedPayload,
    attestationEntryType: ChainsConfig['chainsmith']['attestationEntryType'],
    /** `chainsmith.trusted-root`: what the returned entry and timestamps must verify against */
    trustedRootFile?: string,
    /** the attestation is stored in cosign's tag layout, which timestamps the whole envelope */
    timestampEnvelope?: boolean,
  ): Promise<TlogEntry>;
  /** signatures of runs not marked yet, reused by retries so each payload gets one log entry (signature-memo.ts) */
  memo?: SignatureMemo;
  metrics?: ControllerMetrics;
  logger?: { info(m: string, meta?: object): unknown; warn(m: string, meta?: object): unknown };
}

export type SignOutcome =
  | {
      status: 'signed';
      /** annotations returned by backends (tekton), to write with the mark */
      annotations: Record<string, string>;
      /** human summary of what was signed, for the Signed Event */
      signed: string[];
      findings: Finding[];
    }
  | {
      status: 'failed';
      error: unknown;
      errorType: SigningErrorType;
      type: ArtifactType;
      messages: string[];
      findings: Finding[];
    }
  /** no artifact type produced anything to sign (all disabled, or only `oci` and no images) */
  | { status: 'nothing'; findings: Finding[]; why: string };

/** The first 12 hex characters of an image digest: Chains' shortKey for image signatures. */
export function imageShortKey(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** The run as a format input, with its one extraction (type hinting under the configured format). */
export function extractRun(
  run: Run,
  children: TaskRun[],
  config: ChainsConfig,
): Exclude<FormatInput, { kind: 'Image' }> & { extraction: Extraction } {
  const deepInspection = config.artifacts.pipelinerun.deepInspection;
  if (run.kind === 'TaskRun') {
    const format = config.artifacts.taskrun.format;
    const input = { kind: 'TaskRun' as const, run };
    return {
      ...input,
      extraction: { format, deepInspection, artifacts: extractArtifacts(input, format, { deepInspection }) },
    };
  }
  const format = config.artifacts.pipelinerun.format;
  const input = { kind: 'PipelineRun' as const, run: { run, children } };
  return {
    ...input,
    extraction: { format, deepInspection, artifacts: extractArtifacts(input, format, { deepInspection }) },
  };
}

/**
 * Plans the signable objects of a run under a config (spec §1.5 steps 1 and 4.3) from its one extraction. The
 * findings are those of the extraction (the image pass is part of it, so each is reported once).
 */
export async function planArtifacts(
  run: Run,
  children: TaskRun[],
  config: ChainsConfig,
  deps: Pick<SigningDeps, 'imagesToSign'>,
): Promise<{ plans: ArtifactPlan[]; findings: Finding[] }> {
  const uid = run.metadata.uid ?? '';
  const input = extractRun(run, children, config);
  const plans: ArtifactPlan[] = [];
  for (const type of enabledTypesFor(run.kind, config)) {
    const a = config.artifacts[type];
    const base = { type, signer: a.signer as Exclude<SignerName, 'none'>, storage: [...a.storage].sort() };
    if (type === (input.kind === 'TaskRun' ? 'taskrun' : 'pipelinerun')) {
      const key = runShortKey(input.kind, uid);
      const fullKey = `tekton.dev-v1-${input.kind}-${uid}`;
      const label = `${input.kind} attestation`;
      plans.push({ ...base, objects: [{ input, format: input.extraction.format, shortKey: key, fullKey, label }] });
    } else if (type === 'oci' && input.kind === 'TaskRun') {
      const images = await deps.imagesToSign(input.run, input.extraction.artifacts.images, config);
      plans.push({
        ...base,
        objects: images.map((image) => ({
          input: { kind: 'Image', image },
          format: imageFormat(config, base.storage),
          shortKey: imageShortKey(image.digest),
          fullKey: `${image.repository}@${image.digest}`,
          label: `image ${image.repository}@${image.digest}`,
        })),
      });
    }
  }
  return { plans, findings: mergeFindings(input.extraction.artifacts.findings) };
}

/**
 * The format of image signatures: what cosign v3 signs (`cosign-sign`, a DSSE statement) when they are stored as
 * sigstore bundles in the registry, else Chains' `simplesigning`. One signature serves every backend of the type.
 */
export function imageFormat(config: ChainsConfig, storage: readonly StorageName[]): ImageFormat {
  return storage.includes('oci') && config.storage.oci.encodingFormat === 'sigstore-bundle'
    ? 'cosign-sign'
    : 'simplesigning';
}

/** Whether this run's signatures go to the transparency log (spec §6.1; Chains' `shouldUploadTlog`). */
export function shouldUploadTlog(run: Run, config: ChainsConfig): boolean {
  if (!config.transparency.enabled) return false;
  if (!config.transparency.manual) return true;
  const annotations = run.metadata.annotations ?? {};
  if (TRANSPARENCY_ANNOTATION in annotations) return false;
  return annotations[TRANSPARENCY_UPLOAD_ANNOTATION] === 'true';
}

class StepError extends Error {
  constructor(
    readonly errorType: SigningErrorType,
    readonly original: unknown,
  ) {
    super(messageOf(original));
  }
}

/** Uploads one signature to the transparency log, with Chains' and chainsmith's metrics; throws a `tlog` StepError. */
async function uploadSignature(
  plan: ArtifactPlan,
  obj: SignObject,
  payload: Payload,
  signed: SignedPayload,
  config: ChainsConfig,
  deps: SigningDeps,
  kind: Run['kind'],
): Promise<TlogEntry> {
  const started = performance.now();
  const payloadKind = payload.kind === 'simplesigning' ? 'simplesigning' : 'in-toto';
  try {
    let uploaded: TlogEntry;
    const file = config.chainsmith.signingConfigFile;
    if (file !== undefined) {
      if (!deps.witness) throw new ChainsmithError('TransparencyFailed', 'no signing-config client is configured');
      uploaded = await deps.witness(
        file,
        payloadKind,
        signed,
        config.chainsmith.attestationEntryType,
        config.chainsmith.trustedRootFile,
        plan.storage.includes('oci') && config.storage.oci.encodingFormat !== 'sigstore-bundle',
      );
    } else {
      if (!deps.uploadTlog) throw new ChainsmithError('TransparencyFailed', 'no transparency-log client is configured');
      const entry = proposedEntry(
        payloadKind,
        signed,
        verifierPem(signed.cert, signed.publicKey),
        config.chainsmith.attestationEntryType,
      );
      uploaded = await deps.uploadTlog(config.transparency.url, entry);
    }
    deps.metrics?.forKind(kind).payloadUploaded.inc();
    deps.metrics?.tlogUploadDuration.labels(uploaded.kind).observe((performance.now() - started) / 1000);
    return uploaded;
  } catch (err) {
    const transient = err instanceof ChainsmithError && err.transient;
    deps.metrics?.tlogUploadFailures.labels(transient ? 'transient' : 'permanent').inc();
    throw new StepError(
      'tlog',
      err instanceof ChainsmithError
        ? new ChainsmithError(err.reason, `${obj.label}: ${err.message}`, { transient: err.transient, cause: err })
        : new ChainsmithError('TransparencyFailed', `${obj.label}: ${messageOf(err)}`, { cause: err }),
    );
  }
}

/** Signs and stores one object in every backend of its type (all backends are attempted). */
async function signObject(
  plan: ArtifactPlan,
  obj: SignObject,
  run: Run,
  config: ChainsConfig,
  deps: SigningDeps,
  annotations: Record<string, string>,
): Promise<void> {
  let payload: Payload;
  try {
    payload = deps.formatFor(obj.format).createPayload(obj.input, config);
  } catch (err) {
    throw new StepError(
      'payload_creation',
      err instanceof ChainsmithError
        ? err
        : new ChainsmithError('PayloadFailed', `${obj.label}: ${messageOf(err)}`, { cause: err }),
    );
  }
  const upload = shouldUploadTlog(run, config);
  const counters = deps.metrics?.forKind(run.kind);
  let signed: SignedPayload;
  let key: string | undefined;
  let remembered: Remembered | undefined;
  try {
    const signer = await deps.signer(plan.signer, config);
    if (signer.keyless && !upload)
      throw new ChainsmithError(
        'KeylessFailed',
        `${obj.label}: a keyless signature must be recorded in a transparency log (its certificate expires in ` +
          'minutes, so no verifier accepts it without the entry): set transparency.enabled: "true"' +
          (config.transparency.manual ? ', or annotate the run chains.tekton.dev/transparency-upload: "true"' : ''),
      );
    if (upload && deps.memo) {
      const runUid = run.metadata.uid ?? '';
      const tlog = config.chainsmith.signingConfigFile ?? config.transparency.url;
      key = memoKey({ runUid, fullKey: obj.fullKey, payload: payload.bytes, signer, tlog });
      remembered = deps.memo.get(key);
    }
    // uploaded signatures are deterministic: a run signed again elsewhere gets the same log entry, not a second one
    signed = remembered?.signed ?? (await deps.sign(signer, payload, upload ? { deterministic: true } : undefined));
  } catch (err) {
    throw new StepError('signing', err);
  }
  if (!remembered) counters?.signCreated.inc();
  let tlogEntry: TlogEntry | undefined;
  if (upload) {
    // Unlike Chains (which stores anyway), a failed upload stops here: storage would write a layer without its
    // bundle, and the run must not be marked signed without its entry. The retry reuses this signature (memo).
    if (key && !remembered) deps.memo?.set(run.metadata.uid ?? '', key, { signed });
    tlogEntry = remembered?.tlogEntry ?? (await uploadSignature(plan, obj, payload, signed, config, deps, run.kind));
    if (key && !remembered?.tlogEntry) deps.memo?.set(run.metadata.uid ?? '', key, { signed, tlogEntry });
    // Chains: the last uploaded object wins
    annotations[TRANSPARENCY_ANNOTATION] = transparencyEntryUrl(
      tlogEntry.logUrl ?? config.transparency.url,
      tlogEntry.logIndex,
      tlogEntry.majorApiVersion,
    );
    deps.logger?.info('uploaded to the transparency log', {
      key: obj.fullKey,
      logIndex: tlogEntry.logIndex,
      ...(remembered?.tlogEntry ? { reused: true } : {}),
    });
  }
  const storers = deps.storers();
  const failures: unknown[] = [];
  for (const name of plan.storage) {
    const storer = storers.get(name);
    const started = performance.now();
    try {
      if (!storer) throw new ChainsmithError('StorageFailed', `storage backend "${name}" is not initialised`);
      const request = { run, payload, signed, shortKey: obj.shortKey, fullKey: obj.fullKey, config };
      const result = await storer.store(tlogEntry ? { ...request, tlogEntry } : request);
      Object.assign(annotations, result.annotations ?? {});
      for (const note of result.notes ?? []) deps.logger?.info('store note', { backend: name, key: obj.fullKey, note });
      counters?.payloadStored.inc();
      deps.metrics?.storeDuration.labels(name).observe((performance.now() - started) / 1000);
    } catch (err) {
      deps.metrics?.storeFailures.labels(name, reasonOf(err, 'StorageFailed')).inc();
      failures.push(
        err instanceof ChainsmithError
          ? err
          : new ChainsmithError('StorageFailed', `${name}: ${messageOf(err)}`, { cause: err }),
      );
    }
  }
  if (failures.length > 0) {
    const first = failures[0] as ChainsmithError;
    const message = `${obj.label}: ${failures.map((f) => messageOf(f)).join('; ')}`;
    throw new StepError(
      'storage',
      new ChainsmithError(first.reason, message, {
        transient: failures.every((f) => f instanceof ChainsmithError && f.transient),
        cause: first,
      }),
    );
  }
}

/** Runs the pipeline for one run; never throws (failures come back as a `failed` outcome). */
export async function signRun(
  run: Run,
  children: TaskRun[],
  config: ChainsConfig,
  deps: SigningDeps,
): Promise<SignOutcome> {
  let plans: ArtifactPlan[];
  const findings: Finding[] = [];
  try {
    const planned = await planArtifacts(run, children, config, deps);
    plans = planned.plans;
    for (const f of planned.findings) findings.push(f);
  } catch (err) {
    return {
      status: 'failed',
      error: err,
      errorType: 'payload_creation',
      type: run.kind === 'TaskRun' ? 'taskrun' : 'pipelinerun',
      messages: [messageOf(err)],
      findings,
    };
  }
  const annotations: Record<string, string> = {};
  const signed: string[] = [];
  for (const plan of plans) {
    const errors: StepError[] = [];
    for (const obj of plan.objects) {
      try {
        await signObject(plan, obj, run, config, deps, annotations);
        signed.push(`${obj.label} (${plan.storage.join(', ')})`);
      } catch (err) {
        errors.push(err instanceof StepError ? err : new StepError('signing', err));
      }
    }
    if (errors.length > 0) {
      // like Chains: a failing type stops the later ones
      // (a TaskRun whose attestation fails gets no image signatures yet)
      for (const e of errors) deps.metrics?.forKind(run.kind).signingFailures.labels(e.errorType).inc();
      return {
        status: 'failed',
        error: errors[0]!.original,
        errorType: errors[0]!.errorType,
        type: plan.type,
        messages: errors.map((e) => e.message),
        findings,
      };
    }
  }
  if (signed.length === 0) {
    const why =
      plans.length === 0
        ? 'every artifact type for this run is disabled (signer "none" or storage "")'
        : 'nothing to sign: no images in the results and run attestations are disabled';
    return { status: 'nothing', findings, why };
  }
  return { status: 'signed', annotations, signed, findings };
}
