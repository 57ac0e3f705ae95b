// The cloud keychains, each answering only for its own registry hosts (hosts.ts), each credential cached until
// shortly before it expires, and "no identity of that cloud here" remembered for a while.
import { CachingKeychain, MultiKeychain, type Keychain } from '../keychain.js';
import { AcrKeychain } from './acr.js';
import { EcrKeychain } from './ecr.js';
import { GoogleKeychain } from './google.js';

export { ecrRegion, isAzureRegistry, isGoogleRegistry } from './hosts.js';
export { AcrKeychain, EcrKeychain, GoogleKeychain };

/** ECR, then Google (GCR/Artifact Registry), then ACR; at most one of them answers for a host. */
export function cloudKeychain(opts: { caBundle?: string; now?: () => number } = {}): CachingKeychain {
  const chain: Keychain = new MultiKeychain([
    new EcrKeychain(),
    new GoogleKeychain(),
    new AcrKeychain(opts.caBundle === undefined ? {} : { caBundle: opts.caBundle }),
  ]);
  return new CachingKeychain(chain, opts.now ? { now: opts.now } : {});
}
