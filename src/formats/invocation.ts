// SLSA v0.2 `invocation` (spec §3.2): where the build's config came from, its parameters with the
// task/pipeline defaults overlaid by the run's own params, and its labels/annotations.
import { CHAINS_PREFIX } from '../tekton/annotations.js';
import type { Param, ParamSpec, ParamValue, Run } from '../tekton/types.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export interface Invocation {
  configSource: { uri?: string; digest?: Record<string, string>; entryPoint?: string };
  parameters: Record<string, ParamValue>;
  environment?: { annotations?: Record<string, string>; labels?: Record<string, string> };
}

/** The v0.2 invocation of a run, given its params and the param specs whose defaults apply. */
export function invocation(run: Run, params: Param[] | undefined, paramSpecs: ParamSpec[] | undefined): Invocation {
  const ref = run.status?.provenance?.refSource;
  const configSource: Invocation['configSource'] = {};
  if (ref?.uri) configSource.uri = ref.uri;
  if (ref?.digest && Object.keys(ref.digest).length > 0) configSource.digest = ref.digest;
  if (ref?.entryPoint) configSource.entryPoint = ref.entryPoint;

  const parameters: Record<string, ParamValue> = {};
  for (const spec of paramSpecs ?? []) {
    if (spec.default !== undefined && spec.default !== null) parameters[spec.name] = spec.default;
  }
  for (const p of params ?? []) parameters[p.name] = p.value;

  const result: Invocation = { configSource, parameters };
  const environment: NonNullable<Invocation['environment']> = {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(run.metadata.annotations ?? {})) {
    // dropped because they are bookkeeping, not inputs: Chains' own marks and kubectl's copy of the object
    if (k === LAST_APPLIED || k.startsWith(CHAINS_PREFIX)) continue;
    annotations[k] = v;
  }
  if (Object.keys(annotations).length > 0) environment.annotations = annotations;
  const labels = run.metadata.labels;
  if (labels && Object.keys(labels).length > 0) environment.labels = labels;
  if (environment.annotations || environment.labels) result.environment = environment;
  return result;
}
