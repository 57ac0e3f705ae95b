// The SLSA v1.0 predicate shared by `slsa/v2alpha3` and `slsa/v2alpha4` (spec §3.4): buildDefinition
// (buildType, external and internal parameters, resolved dependencies) and runDetails.
import { ChainsmithError } from '../errors.js';
import type { BuildType, ChainsConfig } from '../config/types.js';
import type { Subject } from '../artifacts/types.js';
import type { Run } from '../tekton/types.js';
import { normaliseFeatureFlags } from './feature-flags.js';
import { SLSA_BUILD_TYPE, TEKTON_BUILD_TYPE } from './build-types.js';
import { goRoundTrip } from './go-types/marshal.js';
import { descriptorJson, type ResourceDescriptor } from './resolved-dependencies.js';
import { sortedKeys } from './serialise.js';
import { SLSA_V1, STATEMENT_V1, type Statement } from './statement.js';
import { protoTime } from './time.js';

/** The configured `builddefinition.buildtype`; anything else fails the payload, as in Chains. */
export function configuredBuildType(config: ChainsConfig): BuildType {
  const bt = config.buildDefinition.buildType as string;
  if (bt === '' || bt === undefined) return SLSA_BUILD_TYPE;
  if (bt !== SLSA_BUILD_TYPE && bt !== TEKTON_BUILD_TYPE) {
    throw new ChainsmithError(
      'PayloadFailed',
      `unsupported builddefinition.buildtype "${bt}" (accepted: ${SLSA_BUILD_TYPE}, ${TEKTON_BUILD_TYPE})`,
    );
  }
  return bt;
}

/** A run is remote when its taskRef/pipelineRef names a resolver other than `Cluster`. */
function isRemote(run: Run): boolean {
  const resolver = run.kind === 'TaskRun' ? run.spec.taskRef?.resolver : run.spec.pipelineRef?.resolver;
  return !!resolver && resolver !== 'Cluster';
}

/** `{runSpec}` plus `buildConfigSource` for remote runs with a refSource. */
export function externalParameters(run: Run): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ref = run.status?.provenance?.refSource;
  if (ref && isRemote(run)) {
    const digest = ref.digest ?? {};
    // Chains takes one entry of a Go map (random when several); we take the first algorithm by name.
    const alg = sortedKeys(digest)[0];
    out.buildConfigSource = {
      ref: alg === undefined ? '' : `${alg}:${digest[alg]}`,
      repository: ref.uri ?? '',
      path: ref.entryPoint ?? '',
    };
  }
  // Chains puts the spec's Go struct here: Go's fields, zero values and omitempty, whole-second times.
  out.runSpec = goRoundTrip(run.spec, run.kind === 'TaskRun' ? 'TaskRunSpec' : 'PipelineRunSpec');
  return out;
}

/** Feature flags always; with slsa-tekton also the run's complete labels and annotations (null when unset). */
export function internalParameters(run: Run, buildType: BuildType): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const flags = run.status?.provenance?.featureFlags;
  if (flags !== undefined && flags !== null && typeof flags === 'object' && !Array.isArray(flags)) {
    out['tekton-pipelines-feature-flags'] = normaliseFeatureFlags(flags);
  }
  if (buildType === TEKTON_BUILD_TYPE) {
    out.labels = run.metadata.labels ?? null;
    out.annotations = run.metadata.annotations ?? null;
  }
  return out;
}

/** `runDetails.metadata`: invocationId (spelled as Chains spells it) = the run's uid, and its times. */
export function runMetadata(run: Run): Record<string, string> {
  const m: Record<string, string> = {};
  if (run.metadata.uid) m.invocationId = run.metadata.uid;
  if (run.status?.startTime) m.startedOn = protoTime(run.status.startTime, 'status.startTime');
  if (run.status?.completionTime) m.finishedOn = protoTime(run.status.completionTime, 'status.completionTime');
  return m;
}

export interface SlsaV1Parts {
  run: Run;
  subjects: Subject[];
  buildType: BuildType;
  resolvedDependencies: ResourceDescriptor[];
  byproducts: ResourceDescriptor[];
  builderId: string;
}

/**
 * The Statement v1 + SLSA provenance v1 for the assembled parts. Empty repeated fields are omitted as protojson does.
 */
export function slsaV1Statement(p: SlsaV1Parts): Statement {
  const buildDefinition: Record<string, unknown> = {
    buildType: p.buildType,
    externalParameters: externalParameters(p.run),
    internalParameters: internalParameters(p.run, p.buildType),
  };
  if (p.resolvedDependencies.length > 0)
    buildDefinition.resolvedDependencies = p.resolvedDependencies.map(descriptorJson);
  const runDetails: Record<string, unknown> = {
    builder: p.builderId ? { id: p.builderId } : {},
    metadata: runMetadata(p.run),
  };
  if (p.byproducts.length > 0) runDetails.byproducts = p.byproducts.map(descriptorJson);
  return {
    type: STATEMENT_V1,
    subjects: p.subjects,
    predicateType: SLSA_V1,
    predicate: { buildDefinition, runDetails },
  };
}
