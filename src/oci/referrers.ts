// The referrers of a manifest (OCI distribution spec 1.1, "Listing Referrers" and "Referrers Tag Schema"): through the
// referrers API when the registry has one, else through the fallback index tagged `<alg>-<hex>` that clients keep
// themselves, as cosign (go-containerregistry) and oras do. Writers add each new referrer to that index; readers
// read it when the API answers 404.
import { ChainsmithError } from '../errors.js';
import type { RegistryClient } from './client.js';
import { isIndex, parseManifest, serialiseIndex, type Descriptor, type ImageIndex } from './manifest.js';
import { OCI_INDEX } from './media-types.js';

/** Where a referrers list came from: the registry's API, or the fallback tag (which may not exist yet). */
export interface Referrers {
  index: ImageIndex;
  via: 'api' | 'tag-schema';
}

/** The fallback tag of `digest`: `sha256:abc…` → `sha256-abc…` (the whole digest, no suffix). */
export function referrersTag(digest: string): string {
  const m = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(digest);
  if (!m) throw new ChainsmithError('InvalidReference', `"${digest}" is not a digest`);
  return `${m[1]}-${m[2]}`.slice(0, 128);
}

/** The referrers of `digest` in `repository`: the API's answer, else the fallback tag's index (empty without one). */
export async function listReferrers(client: RegistryClient, repository: string, digest: string): Promise<Referrers> {
  const fromApi = await client.referrers(repository, digest);
  if (fromApi) return { index: fromApi, via: 'api' };
  return { index: await tagSchemaIndex(client, repository, digest), via: 'tag-schema' };
}

/**
 * Adds `referrer` (the descriptor of a manifest whose `subject` is `digest`, with its artifactType and annotations)
 * to the fallback index of `digest`, unless it is listed already. Only for registries without the referrers API;
 * callers serialise writers of one subject (the index is read, changed and written back).
 */
export async function addToReferrersTag(
  client: RegistryClient,
  repository: string,
  digest: string,
  referrer: Descriptor,
): Promise<void> {
  const index = await tagSchemaIndex(client, repository, digest);
  if (index.manifests.some((d) => d.digest === referrer.digest)) return;
  const updated = serialiseIndex({ ...index, manifests: [...index.manifests, referrer] });
  await client.putManifest(repository, referrersTag(digest), updated, OCI_INDEX);
}

async function tagSchemaIndex(client: RegistryClient, repository: string, digest: string): Promise<ImageIndex> {
  const tag = referrersTag(digest);
  const fetched = await client.getManifest(repository, tag);
  const empty: ImageIndex = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
  if (!fetched) return empty;
  const parsed = parseManifest(fetched.bytes, `registry ${client.registry}, repository ${repository}, tag ${tag}`);
  if (!isIndex(parsed)) {
    throw new ChainsmithError(
      'RegistryError',
      `registry ${client.registry}, repository ${repository}: the referrers tag ${tag} is not an image index`,
    );
  }
  return { ...parsed, schemaVersion: 2, mediaType: OCI_INDEX, manifests: parsed.manifests ?? [] };
}
