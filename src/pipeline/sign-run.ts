// The signing pipeline for one run (spec §1.5), as small steps: plan the artifacts (which types, which objects),
// then for each object create the payload, sign it and store it in every configured backend. No Kubernetes
// writes happen here: the `tekton` backend returns annotations and the reconciler writes them with the mark.
import type { ChainsConfig, RunFormat, SignerName, StorageName } from '../config/types.js';
import { ChainsmithError, messageOf, reasonOf } from '../errors.js';
import type { Finding, ImageReference } from '../artifacts/types.js';
import type { FormatInput, Payload, PayloadFormat } from '../formats/types.js';
import type { Signer, SignedPayload } from '../signing/signer.js';
import type { Storer } from '../storage/storer.js';
import type { Run, TaskRun } from '../tekton/types.js';
import type { ControllerMetrics, SigningErrorType } from '../observability/metrics.js';
import { mergeFindings } from '../artifacts/findings.js';
import { enabledTypesFor } from '../config/parse.js';

export type ArtifactType = 'taskrun' | 'pipelinerun' | 'oci';

/** One thing to sign: a run attestation or an image signature. */
export interface SignObject {
  input: FormatInput;
  format: RunFormat | 'simplesigning';
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
  formatFor(name: RunFormat | 'simplesigning'): PayloadFormat;
  signer(name: 'x509' | 'kms', config: ChainsConfig): Promise<Signer>;
  sign(signer: Signer, payload: Payload): Promise<SignedPayload>;
  /** the storers built for the current config */
  storers(): ReadonlyMap<StorageName, Storer>;
  /** images named by a TaskRun's results (plus platform images when configured), and hinting findings */
  images(run: TaskRun, config: ChainsConfig): Promise<{ images: ImageReference[]; findings: Finding[] }>;
  /** type-hinting findings about a run (including `NoArtifacts` when it has no subjects) */
  findings(input: FormatInput, config: ChainsConfig): Finding[];
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

/** Plans the signable objects of a run under a config (spec §1.5 steps 1 and 4.3). */
export async function planArtifacts(
  run: Run,
  children: TaskRun[],
  config: ChainsConfig,
  deps: Pick<SigningDeps, 'images'>,
): Promise<{ plans: ArtifactPlan[]; findings: Finding[] }> {
  const uid = run.metadata.uid ?? '';
  const plans: ArtifactPlan[] = [];
  const findings: Finding[] = [];
  for (const type of enabledTypesFor(run.kind, config)) {
    const a = config.artifacts[type];
    const base = { type, signer: a.signer as Exclude<SignerName, 'none'>, storage: [...a.storage].sort() };
    if (type === 'taskrun' && run.kind === 'TaskRun') {
      const format = config.artifacts.taskrun.format;
      plans.push({
        ...base,
        objects: [
          {
            input: { kind: 'TaskRun', run },
            format,
            shortKey: `taskrun-${uid}`,
            fullKey: `tekton.dev-v1-TaskRun-${uid}`,
            label: 'TaskRun attestation',
          },
        ],
      });
    } else if (type === 'pipelinerun' && run.kind === 'PipelineRun') {
      const format = config.artifacts.pipelinerun.format;
      plans.push({
        ...base,
        objects: [
          {
            input: { kind: 'PipelineRun', run: { run, children } },
            format,
            shortKey: `pipelinerun-${uid}`,
            fullKey: `tekton.dev-v1-PipelineRun-${uid}`,
            label: 'PipelineRun attestation',
          },
        ],
      });
    } else if (type === 'oci' && run.kind === 'TaskRun') {
      const found = await deps.images(run, config);
      findings.push(...found.findings);
      plans.push({
        ...base,
        objects: found.images.map((image) => ({
          input: { kind: 'Image', image },
          format: 'simplesigning',
          shortKey: imageShortKey(image.digest),
          fullKey: `${image.repository}@${image.digest}`,
          label: `image ${image.repository}@${image.digest}`,
        })),
      });
    }
  }
  return { plans, findings };
}

class StepError extends Error {
  constructor(
    readonly errorType: SigningErrorType,
    readonly original: unknown,
  ) {
    super(messageOf(original));
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
  let signed: SignedPayload;
  try {
    const signer = await deps.signer(plan.signer, config);
    signed = await deps.sign(signer, payload);
  } catch (err) {
    throw new StepError('signing', err);
  }
  const counters = deps.metrics?.forKind(run.kind);
  counters?.signCreated.inc();
  const storers = deps.storers();
  const failures: unknown[] = [];
  for (const name of plan.storage) {
    const storer = storers.get(name);
    const started = performance.now();
    try {
      if (!storer) throw new ChainsmithError('StorageFailed', `storage backend "${name}" is not initialised`);
      const result = await storer.store({ run, payload, signed, shortKey: obj.shortKey, fullKey: obj.fullKey, config });
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
    findings.push(...planned.findings);
    const runInput: FormatInput =
      run.kind === 'TaskRun' ? { kind: 'TaskRun', run } : { kind: 'PipelineRun', run: { run, children } };
    // the image pass and the run pass inspect the same results: report each finding once
    const merged = mergeFindings(findings, deps.findings(runInput, config));
    findings.length = 0;
    findings.push(...merged);
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
