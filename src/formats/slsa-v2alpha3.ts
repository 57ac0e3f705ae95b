// `slsa/v2alpha3`: in-toto Statement v1 with a SLSA provenance v1.0 predicate (spec §3.4).
import type { PayloadFormat } from './types.js';
import { v2alpha3Byproducts } from './byproducts.js';
import { slsaV1Format } from './slsa-v1-format.js';

/** `slsa/v2alpha3`: SLSA v1.0 provenance with all run results as byproducts. */
export const slsaV2alpha3Format: PayloadFormat = slsaV1Format({
  name: 'slsa/v2alpha3',
  withStepActions: false,
  taskRunByproducts: (tr) => v2alpha3Byproducts('taskRunResults', tr.status?.results ?? []),
  pipelineRunByproducts: (pr) => v2alpha3Byproducts('pipelineRunResults', pr.run.status?.results ?? []),
});
