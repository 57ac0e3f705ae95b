// Multi-arch images: the platform manifests of an index, for `chainsmith.sign-platform-images`.
import { RegistryClient } from './client.js';
import type { DockerConfigJson } from './auth.js';
import type { Keychain } from './keychain.js';
import { Deadline, OPERATION_DEADLINE_MS } from './limits.js';
import { isIndex, parseManifest } from './manifest.js';
import { isIndexMediaType } from './media-types.js';
import { parseReference } from '../reference/reference.js';
import { ChainsmithError } from '../errors.js';

/**
 * The digests of the platform manifests of `ref` (`repo@sha256:…` or `repo:tag`) when it is an image index,
 * else `[]`. BuildKit's attestation manifests (platform `unknown/unknown`) are not platform images and are left out.
 */
export async function platformManifests(
  ref: string,
  opts: {
    client?: (registry: string) => RegistryClient;
    dockerConfigs?: DockerConfigJson[];
    /** where the credential comes from (instead of `dockerConfigs`) */
    keychain?: Keychain;
    insecure?: boolean;
    caBundle?: string;
  } = {},
): Promise<string[]> {
  const deadline = new Deadline(OPERATION_DEADLINE_MS);
  const parsed = parseReference(ref);
  if (!parsed) {
    throw new ChainsmithError('InvalidReference', `not an OCI reference: ${JSON.stringify(ref.slice(0, 300))}`);
  }
  const credential = opts.client ? undefined : await opts.keychain?.resolve(parsed.registry);
  const client =
    opts.client ??
    ((registry: string) =>
      new RegistryClient({
        registry,
        dockerConfigs: opts.dockerConfigs ?? [],
        ...(credential === undefined ? {} : { credential }),
        insecure: opts.insecure ?? false,
        deadline,
        ...(opts.caBundle === undefined ? {} : { caBundle: opts.caBundle }),
      }));
  const reference = parsed.digest ?? parsed.tag ?? 'latest';
  const m = await client(parsed.registry).getManifest(parsed.repository, reference);
  if (!m)
    throw new ChainsmithError(
      'RegistryNotFound',
      `registry ${parsed.registry}, repository ${parsed.repository}: manifest ${reference} not found`,
    );
  const what = `registry ${parsed.registry}, repository ${parsed.repository}: manifest ${reference}`;
  const manifest = parseManifest(m.bytes, what);
  if (!isIndex(manifest) && !isIndexMediaType(m.mediaType)) return [];
  if (!isIndex(manifest)) return [];
  return manifest.manifests
    .filter((d) => d.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest')
    .filter((d) => !(d.platform?.os === 'unknown' && d.platform?.architecture === 'unknown'))
    .map((d) => d.digest);
}
