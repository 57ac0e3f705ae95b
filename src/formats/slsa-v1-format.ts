// The one way `slsa/v2alpha3` and `slsa/v2alpha4` build a payload (spec §3.4, §3.5): the SLSA v1.0 statement of a
// TaskRun or PipelineRun. The versions differ only in what each variant below supplies: StepActions among the
// resolved dependencies, the TaskRun's subjects, and the byproducts.
import { ChainsmithError } from '../errors.js';
import type { ChainsConfig, RunFormat } from '../config/types.js';
import { assertValidInput, subjectsOf } from '../artifacts/index.js';
import type { PipelineRunWithChildren, TaskRun } from '../tekton/types.js';
import type { FormatInput, Payload, PayloadFormat } from './types.js';
import {
  pipelineRunResolvedDependencies,
  taskRunResolvedDependencies,
  type ResourceDescriptor,
} from './resolved-dependencies.js';
import { configuredBuildType, slsaV1Statement } from './slsa-v1-predicate.js';
import { statementPayload } from './statement.js';

/** What one SLSA v1.0 format version decides for itself. */
export interface SlsaV1Variant {
  name: RunFormat;
  /** Whether resolved dependencies include the remote StepActions of the steps. */
  withStepActions: boolean;
  taskRunByproducts(tr: TaskRun): ResourceDescriptor[];
  pipelineRunByproducts(pr: PipelineRunWithChildren, deepInspection: boolean): ResourceDescriptor[];
}

/** The PayloadFormat of a SLSA v1.0 variant: TaskRuns and PipelineRuns only. */
export function slsaV1Format(variant: SlsaV1Variant): PayloadFormat {
  const createPayload = (input: FormatInput, config: ChainsConfig): Payload => {
    // runs come from the API server or a file: refuse hostile shapes and sizes before reading them (InvalidRun)
    assertValidInput(input);
    const buildType = configuredBuildType(config);
    const deepInspection = config.artifacts.pipelinerun.deepInspection;
    const opts = { withStepActions: variant.withStepActions, deepInspection, buildType };
    const builderId = config.builder.id;
    if (input.kind === 'TaskRun') {
      const tr = input.run;
      return statementPayload(
        slsaV1Statement({
          run: tr,
          subjects: subjectsOf(input, variant.name, { deepInspection }),
          buildType,
          resolvedDependencies: taskRunResolvedDependencies(tr, opts),
          byproducts: variant.taskRunByproducts(tr),
          builderId,
        }),
      );
    }
    if (input.kind === 'PipelineRun') {
      const pr = input.run;
      return statementPayload(
        slsaV1Statement({
          run: pr.run,
          subjects: subjectsOf(input, variant.name, { deepInspection }),
          buildType,
          resolvedDependencies: pipelineRunResolvedDependencies(pr, opts),
          byproducts: variant.pipelineRunByproducts(pr, deepInspection),
          builderId,
        }),
      );
    }
    throw new ChainsmithError(
      'PayloadFailed',
      `${variant.name} describes TaskRuns and PipelineRuns, not an ${input.kind}`,
    );
  };
  return { name: variant.name, createPayload };
}
