// `slsa/v2alpha4`: SLSA v1.0 like v2alpha3, plus StepAction results and remote StepActions, build-artifact
// subjects only, and byproducts named after the run with subject-like results filtered out (spec §3.5).
import type { PayloadFormat } from './types.js';
import { v2alpha4PipelineRunByproducts, v2alpha4TaskRunByproducts } from './byproducts.js';
import { slsaV1Format } from './slsa-v1-format.js';

/** `slsa/v2alpha4`: SLSA v1.0 provenance including StepAction results. */
export const slsaV2alpha4Format: PayloadFormat = slsaV1Format({
  name: 'slsa/v2alpha4',
  withStepActions: true,
  taskRunByproducts: (tr) => v2alpha4TaskRunByproducts(tr),
  pipelineRunByproducts: (pr, deepInspection) => v2alpha4PipelineRunByproducts(pr, deepInspection),
});
