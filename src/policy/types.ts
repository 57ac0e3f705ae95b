// The typed form of chainsmith's two signing-policy resources (group chainsmith.dev, version v1alpha1) and what
// resolving them yields. Parsing and validation live in policy/parse.ts, grants in policy/grants.ts, selection in
// policy/select.ts; docs/signing-policies.md is the user-facing description of the same shapes.
import type { ChainsConfig } from '../config/types.js';

export const POLICY_GROUP = 'chainsmith.dev';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_API_VERSION = `${POLICY_GROUP}/${POLICY_VERSION}`;

/** A Kubernetes label selector, as `metav1.LabelSelector`. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

/** Which signer a policy asks for: exactly one of the three. */
export type PolicySigner =
  /**
   * a Secret in the controller's namespace with `signing-secrets`' keys (`cosign.key` + `cosign.password`, or
   * `x509.pem`)
   */
  | { x509: { secretName: string } }
  /** a KMS key reference (`hashivault://`, `awskms://`, `gcpkms://`, `azurekms://`); auth from chains-config */
  | { kms: { ref: string } }
  /** keyless: a token of this ServiceAccount of the policy's namespace, for this audience, exchanged at Fulcio */
  | { keyless: { serviceAccount: string; audience?: string } };

export interface SigningPolicySpec {
  /** absent: every run of the namespace */
  selector?: LabelSelector;
  signer?: PolicySigner;
  /** `builder.id` */
  builderId?: string;
  /** `artifacts.{taskrun,pipelinerun,oci}.format` */
  formats?: { taskrun?: string; pipelinerun?: string; oci?: string };
  /** `artifacts.{taskrun,pipelinerun,oci}.storage` (backend names) and `storage.oci.repository` */
  storage?: { taskrun?: string[]; pipelinerun?: string[]; oci?: string[]; ociRepository?: string };
  /** `transparency.enabled` */
  transparency?: 'true' | 'false' | 'manual';
}

export interface Condition {
  type: 'Ready' | 'Conflict';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface SigningPolicy {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  spec: SigningPolicySpec;
  status?: { observedGeneration?: number; conditions?: Condition[]; signer?: string };
}

export interface SigningPolicyGrantSpec {
  /** namespaces whose policies this grant covers (names; `*` is not accepted) */
  namespaces: string[];
  /** Secret names in the controller's namespace */
  secrets?: string[];
  /** KMS references, exact */
  kmsRefs?: string[];
  /** ServiceAccount names (in each granted namespace) whose identity keyless policies may sign with */
  serviceAccounts?: string[];
  /** builder ids a policy may claim while it signs with the cluster's own signer (chains-config) */
  builderIds?: string[];
}

export interface SigningPolicyGrant {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; uid?: string; generation?: number; resourceVersion?: string };
  spec: SigningPolicyGrantSpec;
}

/** `chains-config` keys a policy sets, on top of the ConfigMap's own data. */
export type ConfigOverlay = Record<string, string>;

/** What the pipeline and signers need to know about the policy a run is signed under. */
export interface PolicyBinding {
  namespace: string;
  name: string;
  generation: number;
  /** x509: the Secret (controller's namespace) the signer is loaded from */
  secretName?: string;
  /** keyless: the ServiceAccount (policy's namespace) whose token is exchanged, and the token's audience */
  keyless?: { serviceAccount: string; audience: string };
}

/** A ChainsConfig with the policy it was built for (undefined: chains-config alone). */
export type PolicyConfig = ChainsConfig & { policy?: PolicyBinding };

/** The verdict for one policy on its own (before selection among the policies of a namespace). */
export type PolicyVerdict =
  | { ok: true; overlay: ConfigOverlay; binding: PolicyBinding; signerDescription: string }
  | {
      ok: false;
      reason: 'Invalid' | 'NotGranted';
      message: string;
      /** the signer the policy asks for, when the policy could be read (status.signer of a refused policy) */
      signerDescription?: string;
    };

/** Which configuration one run is signed under. */
export type Resolution =
  | { kind: 'default' }
  | { kind: 'policy'; policy: SigningPolicy }
  | { kind: 'conflict'; policies: SigningPolicy[]; message: string };
