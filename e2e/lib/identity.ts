// Kubernetes identities for keyless signing on the stack: ServiceAccounts, their tokens from the TokenRequest API
// (what a projected ServiceAccount token volume holds), and the certificate identity Fulcio gives them.
import { SERVICEACCOUNTS, type ResourceType } from '../../src/kube/client.js';
import { kube } from './kube.js';

/** The TokenRequest subresource of one ServiceAccount, addressed like a collection of the namespace. */
const tokenRequests = (sa: string): ResourceType => ({
  group: '',
  version: 'v1',
  plural: `serviceaccounts/${sa}/token`,
  kind: 'TokenRequest',
});

/** Creates a ServiceAccount. */
export async function createServiceAccount(ns: string, name: string): Promise<void> {
  await kube().create(SERVICEACCOUNTS, ns, { metadata: { name } });
}

/** A ServiceAccount token for `audience` from the TokenRequest API (10 minutes unless longer is asked). */
export async function serviceAccountToken(ns: string, sa: string, audience: string, seconds = 600): Promise<string> {
  const body = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { audiences: [audience], expirationSeconds: seconds },
  };
  const res = await kube().create<{ status: { token: string } }>(tokenRequests(sa), ns, body);
  return res.status.token;
}

/** The claims of a JWT (not verified: Fulcio does that). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The URI SAN Fulcio's `kubernetes` issuer type writes for a ServiceAccount. */
export function serviceAccountIdentity(ns: string, sa: string): string {
  return `https://kubernetes.io/namespaces/${ns}/serviceaccounts/${sa}`;
}
