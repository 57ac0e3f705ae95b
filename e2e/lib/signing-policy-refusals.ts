// Invalid SigningPolicies and SigningPolicyGrants, one broken rule each, with the field path the API server must
// name and the text its message must contain (manifests/crds). e2e/signing-policy-crd.e2e.ts submits every one.
import { randomSuffix } from './kube.js';

const API_VERSION = 'chainsmith.dev/v1alpha1';

/** A SigningPolicy object in `ns` with `spec` (untyped: the invalid cases are not SigningPolicySpecs). */
export const policyObject = (ns: string, name: string, spec: unknown) => ({
  apiVersion: API_VERSION,
  kind: 'SigningPolicy',
  metadata: { name, namespace: ns },
  ...(spec === undefined ? {} : { spec }),
});

/** A SigningPolicyGrant object with `spec` (untyped, likewise). */
export const grantObject = (name: string, spec: unknown) => ({
  apiVersion: API_VERSION,
  kind: 'SigningPolicyGrant',
  metadata: { name },
  spec,
});

/** One refused object: the field path the API server names and what its message must say. */
export interface Refusal {
  rule: string;
  object: unknown;
  field: string;
  message: string;
}

/** The refused SigningPolicies, in namespace `ns`. */
export const policyRefusals = (ns: string): Refusal[] => {
  const p = (spec: unknown) => policyObject(ns, 'refused', spec);
  return [
    {
      rule: 'two signers',
      object: p({ signer: { x509: { secretName: 'a' }, kms: { ref: 'hashivault://a' } } }),
      field: 'spec.signer',
      message: 'signer must set exactly one of x509, kms or keyless',
    },
    {
      rule: 'no signer in signer',
      object: p({ signer: {} }),
      field: 'spec.signer',
      message: 'signer must set exactly one of x509, kms or keyless',
    },
    {
      rule: 'x509 secret name not a DNS subdomain',
      object: p({ signer: { x509: { secretName: 'Team_A' } } }),
      field: 'spec.signer.x509.secretName',
      message: 'x509.secretName must be a Secret name (a DNS subdomain',
    },
    {
      rule: 'x509 without a secret name',
      object: p({ signer: { x509: {} } }),
      field: 'spec.signer.x509.secretName',
      message: 'Required value',
    },
    {
      rule: 'kms ref with an unknown scheme',
      object: p({ signer: { kms: { ref: 'vault://team-a' } } }),
      field: 'spec.signer.kms.ref',
      message: 'kms.ref must start with hashivault://, awskms://, gcpkms:// or azurekms://',
    },
    {
      rule: 'keyless ServiceAccount not a DNS subdomain',
      object: p({ signer: { keyless: { serviceAccount: 'system:serviceaccount:a:b' } } }),
      field: 'spec.signer.keyless.serviceAccount',
      message: 'keyless.serviceAccount must be a ServiceAccount name',
    },
    {
      rule: 'keyless audience empty',
      object: p({ signer: { keyless: { serviceAccount: 'builder', audience: '' } } }),
      field: 'spec.signer.keyless.audience',
      message: 'keyless.audience must not be empty',
    },
    {
      rule: 'builderId without a scheme',
      object: p({ builderId: 'ci.example.com/team-a' }),
      field: 'spec.builderId',
      message: 'builderId must be a URI with a scheme',
    },
    {
      rule: 'an unknown format',
      object: p({ formats: { taskrun: 'slsa/v3' } }),
      field: 'spec.formats.taskrun',
      message: 'Unsupported value: "slsa/v3": supported values: "in-toto", "slsa/v1", "slsa/v2alpha3", "slsa/v2alpha4"',
    },
    {
      rule: 'an unknown oci format',
      object: p({ formats: { oci: 'in-toto' } }),
      field: 'spec.formats.oci',
      message: 'Unsupported value: "in-toto": supported values: "simplesigning"',
    },
    {
      rule: 'formats that set nothing',
      object: p({ formats: {} }),
      field: 'spec.formats',
      message: 'formats must set at least one of taskrun, pipelinerun or oci',
    },
    {
      rule: 'storage "s3"',
      object: p({ storage: { taskrun: ['tekton', 's3'] } }),
      field: 'spec.storage.taskrun[1]',
      message:
        'Unsupported value: "s3": supported values: "tekton", "oci", "gcs", "docdb", "grafeas", "kafka", "archivista"',
    },
    {
      rule: 'kafka storage for PipelineRuns (chains-config refuses it too)',
      object: p({ storage: { pipelinerun: ['kafka'] } }),
      field: 'spec.storage.pipelinerun[0]',
      message: 'Unsupported value: "kafka"',
    },
    {
      rule: 'a backend twice',
      object: p({ storage: { oci: ['oci', 'oci'] } }),
      field: 'spec.storage.oci[1]',
      message: 'Duplicate value: "oci"',
    },
    {
      rule: 'storage that sets nothing',
      object: p({ storage: {} }),
      field: 'spec.storage',
      message: 'storage must set at least one of taskrun, pipelinerun, oci or ociRepository',
    },
    {
      rule: 'ociRepository with a tag',
      object: p({ storage: { ociRepository: 'registry.example.com/team-a/signatures:latest' } }),
      field: 'spec.storage.ociRepository',
      message: 'storage.ociRepository must be a repository name without a tag or digest',
    },
    {
      rule: 'ociRepository with a digest',
      object: p({ storage: { ociRepository: `registry.example.com/sigs@sha256:${'a'.repeat(64)}` } }),
      field: 'spec.storage.ociRepository',
      message: 'storage.ociRepository must be a repository name without a tag or digest',
    },
    {
      rule: 'transparency "yes"',
      object: p({ transparency: 'yes' }),
      field: 'spec.transparency',
      message: 'Unsupported value: "yes": supported values: "true", "false", "manual"',
    },
    {
      rule: 'transparency as a YAML boolean',
      object: p({ transparency: true }),
      field: 'spec.transparency',
      message: 'must be of type string',
    },
    {
      rule: 'a matchExpression Exists with values',
      object: p({
        transparency: 'true',
        selector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      }),
      field: 'spec.selector.matchExpressions[0].values',
      message: 'operator Exists must not have values',
    },
    {
      rule: 'a matchExpression DoesNotExist with values',
      object: p({
        transparency: 'true',
        selector: { matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] },
      }),
      field: 'spec.selector.matchExpressions[0].values',
      message: 'operator DoesNotExist must not have values',
    },
    {
      rule: 'a matchExpression In without values',
      object: p({ transparency: 'true', selector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }),
      field: 'spec.selector.matchExpressions[0].values',
      message: 'operator In needs at least one value in values',
    },
    {
      rule: 'a matchExpression NotIn with an empty list',
      object: p({
        transparency: 'true',
        selector: { matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] },
      }),
      field: 'spec.selector.matchExpressions[0].values',
      message: 'operator NotIn needs at least one value in values',
    },
    {
      rule: 'an unknown operator',
      object: p({ transparency: 'true', selector: { matchExpressions: [{ key: 'a', operator: 'Equals' }] } }),
      field: 'spec.selector.matchExpressions[0].operator',
      message: 'Unsupported value: "Equals": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
    },
    {
      rule: 'a matchExpression key that is no label key',
      object: p({ transparency: 'true', selector: { matchExpressions: [{ key: 'a b', operator: 'Exists' }] } }),
      field: 'spec.selector.matchExpressions[0].key',
      message: 'must be a label key',
    },
    {
      rule: 'a matchLabels key that is no label key',
      object: p({ transparency: 'true', selector: { matchLabels: { 'team a': 'x' } } }),
      field: 'spec.selector.matchLabels',
      message: 'matchLabels keys must be label keys',
    },
    {
      rule: 'a matchLabels value that is no label value',
      object: p({ transparency: 'true', selector: { matchLabels: { team: 'a b' } } }),
      field: 'spec.selector.matchLabels[team]',
      message: 'must be a label value',
    },
    {
      rule: 'an empty spec',
      object: p({}),
      field: 'spec',
      message:
        'a SigningPolicy must override at least one of signer, builderId, formats, storage or transparency (a policy that overrides nothing would sign exactly as chains-config does)',
    },
    {
      rule: 'a selector that overrides nothing',
      object: p({ selector: { matchLabels: { team: 'a' } } }),
      field: 'spec',
      message: 'a SigningPolicy must override at least one of signer, builderId, formats, storage or transparency',
    },
    { rule: 'no spec', object: p(undefined), field: 'spec', message: 'Required value' },
  ];
};

/** The refused SigningPolicyGrants (random names: they are cluster-scoped). */
export const grantRefusals = (): Refusal[] => {
  const g = (spec: unknown) => grantObject(`refused-${randomSuffix()}`, spec);
  return [
    {
      rule: '`*` in a grant',
      object: g({ namespaces: ['team-a', '*'], secrets: ['team-a-signing'] }),
      field: 'spec.namespaces[1]',
      message: "'*' is not accepted: grants name namespaces explicitly, so a new namespace never inherits a key",
    },
    {
      rule: 'no namespaces',
      object: g({ namespaces: [], secrets: ['team-a-signing'] }),
      field: 'spec.namespaces',
      message: 'namespaces must list at least one namespace',
    },
    { rule: 'namespaces missing', object: g({ secrets: ['a'] }), field: 'spec.namespaces', message: 'Required value' },
    {
      rule: 'a namespace that is no DNS label',
      object: g({ namespaces: ['team.a'] }),
      field: 'spec.namespaces[0]',
      message: 'must be a namespace name (a DNS label',
    },
    {
      rule: 'a namespace too long',
      object: g({ namespaces: ['a'.repeat(64)] }),
      field: 'spec.namespaces[0]',
      message: 'Too long',
    },
    {
      rule: 'a namespace twice',
      object: g({ namespaces: ['team-a', 'team-a'] }),
      field: 'spec.namespaces[1]',
      message: 'Duplicate value: "team-a"',
    },
    {
      rule: 'a Secret name that is no DNS subdomain',
      object: g({ namespaces: ['team-a'], secrets: ['Team_A'] }),
      field: 'spec.secrets[0]',
      message: 'secrets must be Secret names',
    },
    {
      rule: 'a kmsRef with an unknown scheme',
      object: g({ namespaces: ['team-a'], kmsRefs: ['hashivault://a', 'kms://b'] }),
      field: 'spec.kmsRefs[1]',
      message: 'kmsRefs must start with hashivault://, awskms://, gcpkms:// or azurekms://',
    },
    {
      rule: 'a ServiceAccount name that is no DNS subdomain',
      object: g({ namespaces: ['team-a'], serviceAccounts: ['team-a:builder'] }),
      field: 'spec.serviceAccounts[0]',
      message: 'serviceAccounts must be ServiceAccount names',
    },
    {
      rule: 'a builder id without a scheme',
      object: g({ namespaces: ['team-a'], builderIds: ['ci.example.com'] }),
      field: 'spec.builderIds[0]',
      message: 'builderIds must be URIs with a scheme',
    },
  ];
};
