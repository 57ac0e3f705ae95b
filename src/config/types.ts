// The typed form of the `chains-config` ConfigMap (spec chains-behaviour.md §7.1) plus chainsmith's own keys.
// Parsing and defaults live in config/parse.ts; this file is only the shape other modules depend on.

export type RunFormat = 'in-toto' | 'slsa/v1' | 'slsa/v2alpha3' | 'slsa/v2alpha4';
export type OciFormat = 'simplesigning';
export type SignerName = 'x509' | 'kms' | 'none';
export type StorageName = 'tekton' | 'oci' | 'gcs' | 'docdb' | 'grafeas' | 'kafka' | 'archivista';
export type BuildType = 'https://tekton.dev/chains/v2/slsa' | 'https://tekton.dev/chains/v2/slsa-tekton';

export interface ArtifactConfig<F extends string> {
  format: F;
  /** sorted, de-duplicated; empty set = the type is disabled (the ConfigMap value was exactly "") */
  storage: StorageName[];
  signer: SignerName;
}

export interface ChainsConfig {
  artifacts: {
    taskrun: ArtifactConfig<RunFormat>;
    pipelinerun: ArtifactConfig<RunFormat> & { deepInspection: boolean };
    oci: ArtifactConfig<OciFormat>;
  };
  storage: {
    gcs: { bucket?: string };
    oci: { repository?: string; insecure: boolean; encodingFormat: 'dsse' | 'sigstore-bundle' };
    docdb: { url?: string; mongoServerUrl?: string; mongoServerUrlDir?: string; mongoServerUrlPath?: string };
    grafeas: { projectId?: string; noteId?: string; noteHint: string };
    pubsub: { provider?: string; topic?: string; kafkaBootstrapServers?: string };
    archivista: { url?: string };
  };
  signers: {
    x509: {
      fulcioEnabled: boolean;
      fulcioAddress: string;
      fulcioIssuer: string;
      fulcioProvider?: string;
      identityTokenFile?: string;
      tufMirrorUrl: string;
    };
    kms: {
      kmsref?: string;
      auth: {
        address?: string;
        token?: string;
        tokenPath?: string;
        oidc: { path?: string; role?: string; tokenPath?: string };
        spire: { sock?: string; audience?: string };
      };
    };
  };
  transparency: {
    enabled: boolean;
    /** `transparency.enabled: manual`: only runs annotated `chains.tekton.dev/transparency-upload: "true"` */
    manual: boolean;
    url: string;
  };
  builder: { id: string };
  buildDefinition: { buildType: BuildType };
  filter: { managedBy: string[] };
  /** chainsmith-only keys (prefix `chainsmith.`); Chains ignores unknown keys, so they are safe to share. */
  chainsmith: {
    /** `chainsmith.sign-platform-images`: also sign each platform manifest of an image index */
    signPlatformImages: boolean;
    /** `chainsmith.max-retries`: attempts before a run is marked `failed` (Chains: 3) */
    maxRetries: number;
    /**
     * `chainsmith.retry-horizon`: seconds of transient failure tolerated before retries count
     * (see docs/reliability.md)
     */
    retryHorizonSeconds: number;
    /**
     * `chainsmith.transparency.attestation-entry`: the Rekor entry kind of attestations, `dsse` 0.0.1 (default,
     * Chains v0.29+) or `intoto` 0.0.1 (Chains ≤ v0.28, for verifiers that only know it)
     */
    attestationEntryType: 'dsse' | 'intoto';
    /**
     * `chainsmith.keyless.reuse-certificate`: keyless signers keep one ephemeral key and its Fulcio certificate for
     * many signatures while it has minutes of validity left (default false: a new key and certificate per object)
     */
    keylessReuseCertificate: boolean;
    /**
     * `chainsmith.signing-config`: path of a sigstore SigningConfig (JSON) naming the transparency log (Rekor v1 or
     * v2) and timestamp authority to use while transparency is on, instead of `transparency.url`
     */
    signingConfigFile?: string;
    /**
     * `chainsmith.trusted-root`: path of a sigstore TrustedRoot (JSON); with `chainsmith.signing-config`, every entry
     * and timestamp the services return must verify against it before the signature is stored
     */
    trustedRootFile?: string;
  };
}
