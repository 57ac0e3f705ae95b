// Wires the signing pipeline to chainsmith's real modules: formats, type hinting, the signer registry, the
// storers built for the current config, and (for `chainsmith.sign-platform-images`) the registry client.
import type { ChainsConfig, StorageName } from '../config/types.js';
import type { ImageReference } from '../artifacts/types.js';
import { payloadFormat } from '../formats/index.js';
import type { RegistryCredentialSource } from '../kube/registry-credentials.js';
import { platformManifests } from '../oci/platforms.js';
import type { ControllerMetrics } from '../observability/metrics.js';
import type { ProposedEntry } from '@sigstore/rekor-types';
import { RekorClient, type TlogEntry } from '../sigstore/rekor.js';
import { ChainsmithError } from '../errors.js';
import { recordFromEntry, setFailure, type RekorLogKey } from '../verify/tlog.js';
import { signPayload } from '../sigstore/sign-payload.js';
import type { SignerRegistry } from '../signing/index.js';
import type { Storer } from '../storage/storer.js';
import type { TaskRun } from '../tekton/types.js';
import type { SigningDeps } from './sign-run.js';
import { SignatureMemo } from './signature-memo.js';
import { SigningConfigWitness } from './witness.js';

export interface RealSigningDepsOptions {
  signers: SignerRegistry;
  storers: () => ReadonlyMap<StorageName, Storer>;
  credentials: RegistryCredentialSource;
  metrics?: ControllerMetrics;
  logger?: SigningDeps['logger'];
  /**
   * Rekor's public key (`SIGSTORE_REKOR_PUBLIC_KEY`): each entry Rekor returns, created or already there (409), must
   * carry a SET by this key, as Chains checks a 409's entry against Rekor's keys. Without it the entry is checked to
   * record the signature, not who signed it.
   */
  rekorKey?: RekorLogKey;
}

/** The platform manifests of each image index among `images` (other images contribute nothing). */
async function platformImages(
  run: TaskRun,
  images: ImageReference[],
  config: ChainsConfig,
  credentials: RegistryCredentialSource,
): Promise<ImageReference[]> {
  const keychain = await credentials.keychainFor(run);
  const out: ImageReference[] = [];
  for (const image of images) {
    const digests = await platformManifests(`${image.repository}@${image.digest}`, {
      keychain,
      insecure: config.storage.oci.insecure,
    });
    for (const digest of digests)
      out.push({
        repository: image.repository,
        digest,
        source: `${image.source} (platform manifest of ${image.digest})`,
      });
  }
  return out;
}

/** SigningDeps backed by the real formats, signers, storers, registry and Rekor. */
export function realSigningDeps(o: RealSigningDepsOptions): SigningDeps {
  // One client per `transparency.url`: a config change to another log gets a new one.
  let rekor: RekorClient | undefined;
  const uploadTlog = async (url: string, entry: ProposedEntry): Promise<TlogEntry> => {
    if (rekor?.url !== url) rekor = new RekorClient({ url });
    const uploaded = await rekor.upload(entry);
    if (o.rekorKey) {
      const record = recordFromEntry(uploaded);
      const why = typeof record === 'string' ? record : setFailure(record, o.rekorKey);
      if (why) throw new ChainsmithError('TransparencyFailed', `rekor ${url}: ${why} (SIGSTORE_REKOR_PUBLIC_KEY)`);
    }
    return uploaded;
  };
  // `chainsmith.signing-config`: the log and timestamp authority a sigstore signing config selects (a Rekor v1 log
  // through the same client as `transparency.url`)
  const witness = new SigningConfigWitness(uploadTlog);
  return {
    memo: new SignatureMemo(),
    witness: (file, kind, signed, entryType, trustedRoot, timestampEnvelope) =>
      witness.witness(file, kind, signed, entryType, trustedRoot, timestampEnvelope),
    uploadTlog,
    formatFor: (name) => payloadFormat(name),
    signer: (name, config) => o.signers.get(name, config),
    sign: (signer, payload, opts) => signPayload(signer, payload, opts),
    storers: o.storers,
    imagesToSign: async (run, images, config) => {
      if (!config.chainsmith.signPlatformImages || images.length === 0) return images;
      const seen = new Set(images.map((i) => `${i.repository}@${i.digest}`));
      const extra = (await platformImages(run, images, config, o.credentials)).filter(
        (i) => !seen.has(`${i.repository}@${i.digest}`),
      );
      return [...images, ...extra];
    },
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
  };
}
