// `slsa/v2alpha3`: in-toto Statement v1 with a SLSA provenance v1.0 predicate (spec §3.4).
import { ChainsmithError } from '../errors.js';
import type { ChainsConfig } from '../config/types.js';
import { extractArtifacts, subjectsV02 } from '../artifacts/index.js';
import type { FormatInput, Payload, PayloadFormat } from './types.js';
import { v2alpha3Byproducts } from './byproducts.js';
import { pipelineRunResolvedDependencies, taskRunResolvedDependencies } from './resolved-dependencies.js';
import { configuredBuildType, slsaV1Statement } from './slsa-v1-predicate.js';
import { statementPayload } from './statement.js';

const NAME = 'slsa/v2alpha3';

function createPayload(input: FormatInput, config: ChainsConfig): Payload {
  const buildType = configuredBuildType(config);
  const deepInspection = config.artifacts.pipelinerun.deepInspection;
  const opts = { withStepActions: false, deepInspection, buildType };
  const builderId = config.builder.id;
  if (input.kind === 'TaskRun') {
    const tr = input.run;
    return statementPayload(
      slsaV1Statement({
        run: tr,
        subjects: subjectsV02(tr.status?.results ?? []), // straight from type hinting, without findings
        buildType,
        resolvedDependencies: taskRunResolvedDependencies(tr, opts),
        byproducts: v2alpha3Byproducts('taskRunResults', tr.status?.results ?? []),
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
        byproducts: v2alpha3Byproducts('pipelineRunResults', pr.run.status?.results ?? []),
        builderId,
      }),
    );
  }
  throw new ChainsmithError('PayloadFailed', `${NAME} describes TaskRuns and PipelineRuns, not an ${input.kind}`);
}

/** `slsa/v2alpha3`: SLSA v1.0 provenance with all run results as byproducts. */
export const slsaV2alpha3Format: PayloadFormat = { name: NAME, createPayload };
