// The chains-config setups every arm runs with, identical for Chains and chainsmith.
export interface BenchConfig {
  /** What `--configs` selects it by (1-8). */
  id: number;
  name: string;
  /**
   * chains-config data (for a `rekor` config, `transparency.url` is added once the stack's Rekor is up; for a
   * `fulcio` config, the Fulcio address, issuer and token file once the stack's Fulcio is up).
   */
  data: Record<string, string>;
  /** Whether runs need real images in the registry (the `oci` backend reads them). */
  realImages: boolean;
  /** Whether the stack runs the Rekor v1 add-on (e2e/stack/addons/rekor-up.sh) and the arms upload to it. */
  rekor?: boolean;
  /** Whether the stack also runs the Fulcio add-on (e2e/stack/addons/fulcio-up.sh) and the arms sign keylessly. */
  fulcio?: boolean;
  /**
   * Whether the stack also runs the sigstore2 add-on (Rekor v2 and a TSA; it needs Rekor v1 and Fulcio for its trust
   * files) and chainsmith takes its log from the stack's signing config (`chainsmith.signing-config`).
   */
  sigstore2?: boolean;
}

/**
 * in-toto (SLSA v0.2) provenance stored in the run's annotations. `artifacts.oci.storage` is set
 * empty, which disables image signing in both controllers: this config measures the provenance
 * path alone, with no registry traffic. The same holds for every arm.
 */
export const IN_TOTO_TEKTON: BenchConfig = {
  id: 1,
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
  id: 2,
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

/**
 * IN_TOTO_TEKTON plus a Rekor v1 upload of every attestation (issue 17): one entry per run, since image signing is
 * off. `transparency.url` is the stack's own Rekor, the same for every arm. chainsmith uploads `dsse` 0.0.1 (its
 * default, Chains v0.29+'s kind) and Chains v0.28.1 `intoto` 0.0.1; BENCH_ATTESTATION_ENTRY=intoto sets
 * `chainsmith.transparency.attestation-entry: intoto` (Chains ignores the key) to compare like with like.
 */
export const IN_TOTO_TEKTON_REKOR: BenchConfig = {
  id: 3,
  name: 'in-toto + tekton + Rekor',
  data: {
    ...IN_TOTO_TEKTON.data,
    'transparency.enabled': 'true',
    ...(process.env.BENCH_ATTESTATION_ENTRY
      ? { 'chainsmith.transparency.attestation-entry': process.env.BENCH_ATTESTATION_ENTRY }
      : {}),
  },
  realImages: false,
  rekor: true,
};

/**
 * IN_TOTO_TEKTON_REKOR signed keylessly (issue 18): `signers.x509.fulcio.enabled`, with the Fulcio address, the
 * issuer (the stack's kube-apiserver) and `signers.x509.identity.token.file` (a ServiceAccount token of the
 * controller's namespace, audience `sigstore`) added once the stack is up; the same Fulcio and Rekor for every arm.
 * No `signers.x509.fulcio.provider`: with a token file both controllers read it (Chains switches to its
 * `filesystem-custom-path` provider), and Chains' default TUF mirror is left alone, so it never initialises TUF.
 * One signed object per run (image signing is off): one certificate and one Rekor entry per run, unless the arm
 * reuses certificates (`chainsmith.keyless.reuse-certificate`, the chainsmith-reuse arm).
 */
export const IN_TOTO_TEKTON_KEYLESS: BenchConfig = {
  id: 4,
  name: 'in-toto + tekton + keyless',
  data: { ...IN_TOTO_TEKTON_REKOR.data, 'signers.x509.fulcio.enabled': 'true' },
  realImages: false,
  rekor: true,
  fulcio: true,
};

/**
 * IN_TOTO_TEKTON_REKOR with `chainsmith.signing-config` naming the stack's Rekor v2 and timestamp authority (issue 20;
 * burst only, chainsmith only: Chains cannot write to Rekor v2): each signature is a Rekor v2 entry plus a timestamp.
 * Compared with config 3's chainsmith arm in the same run. Signed with the key (Fulcio is up only for the trust files).
 */
export const IN_TOTO_TEKTON_REKOR_V2: BenchConfig = {
  id: 5,
  name: 'in-toto + tekton + Rekor v2 + TSA',
  data: IN_TOTO_TEKTON_REKOR.data,
  realImages: false,
  rekor: true,
  fulcio: true,
  sigstore2: true,
};

/**
 * Issue 23: config IN_TOTO_TEKTON signed by 1, 2 and 3 chainsmith replicas sharing `buckets: "3"` (Chains'
 * leader-election ConfigMap, default Lease timings), one replica count after the other on the same stack and API
 * server, the same burst for each (bench/workloads/replicas.ts). chainsmith only: the question is how the work and
 * its API cost spread over replicas, not a comparison with Chains.
 */
export const IN_TOTO_TEKTON_REPLICAS: BenchConfig = {
  id: 6,
  name: 'in-toto + tekton, replicas',
  data: IN_TOTO_TEKTON.data,
  realImages: false,
};

/** SLSA_V2ALPHA4_OCI with 1, 2 and 3 replicas, as IN_TOTO_TEKTON_REPLICAS: the registry path under replicas. */
export const SLSA_V2ALPHA4_OCI_REPLICAS: BenchConfig = {
  id: 7,
  name: 'slsa/v2alpha4 + oci, replicas',
  data: SLSA_V2ALPHA4_OCI.data,
  realImages: true,
};

/**
 * Issue 24: config IN_TOTO_TEKTON with the burst spread over 20 namespaces, signed twice on the same stack
 * (bench/workloads/policies.ts): once under chains-config alone, once with 20 SigningPolicies per namespace (one
 * selects the runs, 19 do not), each namespace signing with its own tenant key (a Secret in the controller's
 * namespace, granted by a SigningPolicyGrant) and builder id. chainsmith only: Chains has no SigningPolicies.
 */
export const IN_TOTO_TEKTON_POLICIES: BenchConfig = {
  id: 8,
  name: 'in-toto + tekton, signing policies',
  data: IN_TOTO_TEKTON.data,
  realImages: false,
};

export const CONFIGS: readonly BenchConfig[] = [
  IN_TOTO_TEKTON,
  SLSA_V2ALPHA4_OCI,
  IN_TOTO_TEKTON_REKOR,
  IN_TOTO_TEKTON_KEYLESS,
  IN_TOTO_TEKTON_REKOR_V2,
  IN_TOTO_TEKTON_REPLICAS,
  SLSA_V2ALPHA4_OCI_REPLICAS,
  IN_TOTO_TEKTON_POLICIES,
];
