// `in-toto` (alias `slsa/v1`): in-toto Statement v0.1 with a SLSA provenance v0.2 predicate, for
// TaskRuns (spec §3.2) and PipelineRuns (§3.3). Subjects come from type hinting (artifacts/).
import { ChainsmithError } from '../errors.js';
import type { ChainsConfig, RunFormat } from '../config/types.js';
import type { Material } from '../artifacts/types.js';
import { assertValidInput, subjectsOf } from '../artifacts/index.js';
import { taskRunMaterials } from '../artifacts/materials.js';
import { REPRODUCIBLE_LABEL } from '../tekton/annotations.js';
import type { Run } from '../tekton/types.js';
import type { FormatInput, Payload, PayloadFormat } from './types.js';
import { pipelineRunBuildConfig, taskRunBuildConfig } from './build-config.js';
import { invocation } from './invocation.js';
import { pipelineRunMaterials } from './pipeline-materials.js';
import { SLSA_V02, STATEMENT_V01, statementPayload } from './statement.js';
import { goTime } from './time.js';

/** SLSA v0.2 `metadata`: the run's times (UTC) and the reproducible label; completeness always false. */
function metadata(run: Run): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  if (run.status?.startTime) m.buildStartedOn = goTime(run.status.startTime, 'status.startTime');
  if (run.status?.completionTime) m.buildFinishedOn = goTime(run.status.completionTime, 'status.completionTime');
  m.completeness = { parameters: false, environment: false, materials: false };
  m.reproducible = run.metadata.labels?.[REPRODUCIBLE_LABEL] === 'true';
  return m;
}

/** v0.2 materials as Go's ProvenanceMaterial marshals them (`uri`/`digest` omitted when empty). */
function materialJson(m: Material): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.uri) out.uri = m.uri;
  if (Object.keys(m.digest).length > 0) out.digest = m.digest;
  return out;
}

function predicate(
  run: Run,
  builderId: string,
  inv: unknown,
  buildConfig: unknown,
  materials: Material[],
): Record<string, unknown> {
  const p: Record<string, unknown> = {
    builder: { id: builderId },
    buildType: `tekton.dev/v1/${run.kind}`,
    invocation: inv,
    buildConfig,
    metadata: metadata(run),
  };
  if (materials.length > 0) p.materials = materials.map(materialJson);
  return p;
}

/** Builds the v0.2 statement payload for a run; `name` is the registered format name. */
function createPayload(name: RunFormat, input: FormatInput, config: ChainsConfig): Payload {
  // runs come from the API server or a file: refuse hostile shapes and sizes before reading them (InvalidRun)
  assertValidInput(input);
  const deepInspection = config.artifacts.pipelinerun.deepInspection;
  if (input.kind === 'TaskRun') {
    const tr = input.run;
    const subjects = subjectsOf(input, name, { deepInspection });
    const inv = invocation(tr, tr.spec.params, tr.status?.taskSpec?.params);
    const pred = predicate(tr, config.builder.id, inv, taskRunBuildConfig(tr), taskRunMaterials(tr));
    return statementPayload({ type: STATEMENT_V01, subjects, predicateType: SLSA_V02, predicate: pred });
  }
  if (input.kind === 'PipelineRun') {
    const pr = input.run;
    const subjects = subjectsOf(input, name, { deepInspection });
    const inv = invocation(pr.run, pr.run.spec.params, pr.run.status?.pipelineSpec?.params);
    const pred = predicate(
      pr.run,
      config.builder.id,
      inv,
      pipelineRunBuildConfig(pr),
      pipelineRunMaterials(pr, deepInspection),
    );
    return statementPayload({ type: STATEMENT_V01, subjects, predicateType: SLSA_V02, predicate: pred });
  }
  throw new ChainsmithError('PayloadFailed', `${name} describes TaskRuns and PipelineRuns, not an ${input.kind}`);
}

function slsaV02Format(name: 'in-toto' | 'slsa/v1'): PayloadFormat {
  return { name, createPayload: (input, config) => createPayload(name, input, config) };
}

/** `in-toto`: Statement v0.1 + SLSA provenance v0.2 (the default format of chains-config). */
export const inTotoFormat: PayloadFormat = slsaV02Format('in-toto');
/** `slsa/v1`: the same implementation under its alias name, as Chains registers it. */
export const slsaV1Format: PayloadFormat = slsaV02Format('slsa/v1');
