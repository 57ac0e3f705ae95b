// Who signed a run keylessly, for `audit`: the SAN and OIDC issuer of the Fulcio certificate the `tekton` storage
// backend stored on it (`chains.tekton.dev/cert-<key>`, base64 PEM as Chains writes it). The run's own provenance
// certificate (`cert-<kind>-<uid>`) is preferred, else any other non-empty one. A run signed with a key stores ""
// there and has no signing identity. This reads the annotation as written: that the certificate chains to Fulcio
// and the signature verifies is what `chainsmith verify --certificate-identity …` checks.
import { X509Certificate } from 'node:crypto';
import { CHAINS_PREFIX, runShortKey, tektonAnnotationKeys } from '../tekton/annotations.js';
import type { Run } from '../tekton/types.js';
import { certificateIdentity } from '../verify/certificate.js';

/** The identity of a signing certificate, as audit shows it. */
export interface SigningIdentity {
  /** the certificate's SANs (a ServiceAccount URI for the controller's own identity) */
  identity: string;
  /** Fulcio's OIDC issuer extension ("" when absent) */
  issuer: string;
}

const CERT_PREFIX = `${CHAINS_PREFIX}cert-`;

/** The signing identity of a run's stored certificate, or undefined (no certificate: signed with a key). */
export function signingIdentityOf(run: Run): SigningIdentity | undefined {
  const annotations = run.metadata.annotations ?? {};
  const own = tektonAnnotationKeys(runShortKey(run.kind, run.metadata.uid ?? '')).cert;
  const others = Object.keys(annotations)
    .filter((k) => k.startsWith(CERT_PREFIX) && k !== own)
    .sort();
  for (const key of [own, ...others]) {
    const found = identityOfAnnotation(annotations[key]);
    if (found) return found;
  }
  return undefined;
}

// base64 PEM (Chains), or PEM itself; the first certificate is the leaf
function identityOfAnnotation(value: string | undefined): SigningIdentity | undefined {
  if (!value) return undefined;
  const pem = value.includes('-----BEGIN') ? value : Buffer.from(value, 'base64').toString('utf8');
  const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!block) return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(block);
  } catch {
    return undefined;
  }
  const id = certificateIdentity(cert);
  if (id.sans.length === 0 && id.issuer === undefined) return undefined;
  return { identity: id.sans.join(', '), issuer: id.issuer ?? '' };
}
