// `slsa/v2alpha4`: SLSA v1.0 like v2alpha3, plus StepAction results and remote StepActions, build-artifact
// subjects only, and byproducts named after the run with subject-like results filtered out (spec §3.5).
import { ChainsmithError } from '../errors.js';
import type { ChainsConfig } from '../config/types.js';
import { extractArtifacts, subjectsV2alpha4 } from '../artifacts/index.js';
import type { FormatInput, Payload, PayloadFormat } from './types.js';
import { v2alpha4PipelineRunByproducts, v2alpha4TaskRunByproducts } from './byproducts.js';
import { pipelineRunResolvedDependencies, taskRunResolvedDependencies } from './resolved-dependencies.js';
import { configuredBuildType, slsaV1Statement } from './slsa-v1-predicate.js';
import { statementPayload } from './statement.js';

const NAME = 'slsa/v2alpha4';

function createPayload(input: FormatInput, config: ChainsConfig): Payload {
  const buildType = configuredBuildType(config);
  const deepInspection = config.artifacts.pipelinerun.deepInspection;
  const opts = { withStepActions: true, deepInspection, buildType };
  const builderId = config.builder.id;
  if (input.kind === 'TaskRun') {
    const tr = input.run;
    return statementPayload(
      slsaV1Statement({
        run: tr,
        subjects: subjectsV2alpha4(tr), // steps first, then the TaskRun (§2.8)
        buildType,
        resolvedDependencies: taskRunResolvedDependencies(tr, opts),
        byproducts: v2alpha4TaskRunByproducts(tr),
        builderId,
      }),
    );
  }
  if (input.kind === 'PipelineRun') {
    const pr = input.run;
    return statementPayload(
      slsaV1Statement({
        run: pr.run,
        subjects: extractArtifacts(input, NAME, { deepInspection }).subjects,
        buildType,
        resolvedDependencies: pipelineRunResolvedDependencies(pr, opts),
        byproducts: v2alpha4PipelineRunByproducts(pr, deepInspection),
        builderId,
      }),
    );
  }
  throw new ChainsmithError('PayloadFailed', `${NAME} describes TaskRuns and PipelineRuns, not an ${input.kind}`);
}

/** `slsa/v2alpha4`: SLSA v1.0 provenance including StepAction results. */
export const slsaV2alpha4Format: PayloadFormat = { name: NAME, createPayload };
