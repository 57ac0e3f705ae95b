// The two chains-config setups every arm runs with, identical for Chains and chainsmith.
export interface BenchConfig {
  name: string;
  /** chains-config data. */
  data: Record<string, string>;
  /** Whether runs need real images in the registry (the `oci` backend reads them). */
  realImages: boolean;
}

/**
 * in-toto (SLSA v0.2) provenance stored in the run's annotations. `artifacts.oci.storage` is set
 * empty, which disables image signing in both controllers: this config measures the provenance
 * path alone, with no registry traffic. The same holds for every arm.
 */
export const IN_TOTO_TEKTON: BenchConfig = {
  name: 'in-toto + tekton',
  data: {
    'artifacts.taskrun.format': 'in-toto',
    'artifacts.taskrun.storage': 'tekton',
    'artifacts.pipelinerun.format': 'in-toto',
    'artifacts.pipelinerun.storage': 'tekton',
    'artifacts.oci.storage': '',
    'transparency.enabled': 'false',
  },
  realImages: false,
};

/** SLSA v1.0 provenance (slsa/v2alpha4) and a cosign image signature, both pushed to the registry. */
export const SLSA_V2ALPHA4_OCI: BenchConfig = {
  name: 'slsa/v2alpha4 + oci',
  data: {
    'artifacts.taskrun.format': 'slsa/v2alpha4',
    'artifacts.taskrun.storage': 'oci',
    'artifacts.pipelinerun.format': 'slsa/v2alpha4',
    'artifacts.pipelinerun.storage': 'oci',
    'artifacts.oci.storage': 'oci',
    'transparency.enabled': 'false',
  },
  realImages: true,
};
