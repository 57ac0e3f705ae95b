// Storage `oci`: image signatures and attestations next to the image in its registry, in cosign's tag layout
// (`storage.oci.encoding-format: dsse`, the default) or as OCI 1.1 referrers (`sigstore-bundle`).
import type { Logger } from 'winston';
import { ChainsmithError } from '../errors.js';
import { TokenCache } from '../oci/auth.js';
import { dsseBundle } from '../sigstore/bundle.js';
import { RegistryClient } from '../oci/client.js';
import { attachmentTag, attestationLayer, signatureLayer } from '../sigstore/cosign-layout.js';
import type { RegistryCredentialSource } from '../kube/registry-credentials.js';
import type { Keychain } from '../oci/keychain.js';
import { KeyedMutex } from '../oci/keyed-mutex.js';
import { Deadline, OPERATION_DEADLINE_MS } from '../oci/limits.js';
import { parseRepository, repositoryName, type OciReference } from '../reference/reference.js';
import type { RetryPolicy } from '../oci/retry.js';
import { appendToAttachment, EnvelopeIdentityCache, type AttachOutcome } from './oci-attachments.js';
import { attachReferrer } from './oci-referrers.js';
import { simpleSigningTarget, statementTargets, type ImageTarget } from './oci-targets.js';
import type { Storer, StoreRequest, StoreResult } from './storer.js';

/** Dependencies of the OCI store. Only `credentials` is required. */
export interface OciStorerDeps {
  credentials: RegistryCredentialSource;
  logger?: Logger;
  /** PEM CA certificates trusted for registries in addition to Node's roots */
  caBundle?: string;
  /** total deadline of one registry request (default REQUEST_TOTAL_TIMEOUT_MS) */
  timeoutMs?: number;
  /** idle deadline of one registry request (default REQUEST_IDLE_TIMEOUT_MS) */
  idleTimeoutMs?: number;
  /** deadline of one store, all its images and retries included (default OPERATION_DEADLINE_MS) */
  operationDeadlineMs?: number;
  retry?: RetryPolicy;
  /** share one across storer instances so rebuilt storers still serialise writes to the same tag */
  locks?: KeyedMutex;
  now?: () => Date;
}

/** Pushes cosign-compatible signatures and attestations; never duplicates a layer on retries. */
export class OciStorer implements Storer {
  readonly name = 'oci';
  private readonly deps: OciStorerDeps;
  private readonly locks: KeyedMutex;
  private readonly tokens = new TokenCache();
  private readonly envelopes = new EnvelopeIdentityCache();

  constructor(deps: OciStorerDeps) {
    this.deps = deps;
    this.locks = deps.locks ?? new KeyedMutex();
  }

  /** Stores the payload on every OCI image it is about; non-OCI subjects are skipped with a note. */
  async store(req: StoreRequest): Promise<StoreResult> {
    const oci = req.config.storage.oci;
    const override = oci.repository ? parseOverride(oci.repository) : undefined;
    const bundleMode = oci.encodingFormat === 'sigstore-bundle';
    const notes: string[] = [];
    if (bundleMode && override)
      notes.push(
        'storage.oci.repository is ignored with encoding-format sigstore-bundle; ' +
          'referrers are stored next to each image',
      );

    let images: ImageTarget[];
    if (req.payload.kind === 'simplesigning') {
      const target = simpleSigningTarget(req.signed.payload, req.fullKey);
      if (!target)
        throw new ChainsmithError(
          'StorageFailed',
          `simple-signing payload for ${req.fullKey} names no OCI image with a sha256 digest`,
        );
      images = [target];
    } else {
      const targets = statementTargets(req.payload);
      images = targets.images;
      notes.push(...targets.notes);
    }

    const keychain = await this.deps.credentials.keychainFor(req.run);
    // One deadline for the whole store, so slow answers on several images or retries cannot add up without bound.
    const deadline = new Deadline(this.deps.operationDeadlineMs ?? OPERATION_DEADLINE_MS);
    const clients = new Map<string, Promise<RegistryClient>>();
    const clientFor = (registry: string): Promise<RegistryClient> => {
      let c = clients.get(registry);
      if (!c) {
        c = this.client(registry, keychain, oci.insecure, deadline);
        clients.set(registry, c);
      }
      return c;
    };

    // One push per subject; a failure on one image does not stop the others, and the first error is rethrown
    // so the controller retries the run (dedupe makes the repeat of the successful ones a no-op).
    const failures: ChainsmithError[] = [];
    // registry → repository that already holds the layer blob, to mount instead of uploading again.
    const holders = new Map<string, string>();
    for (const image of images) {
      try {
        const outcome = bundleMode
          ? await this.storeReferrer(req, image, await clientFor(image.registry))
          : await this.storeTag(req, image, override, clientFor, holders);
        this.deps.logger?.info('oci store', {
          image: `${repositoryName(image)}@${image.digest}`,
          kind: req.payload.kind,
          outcome,
          encoding: oci.encodingFormat,
        });
      } catch (err) {
        const e =
          err instanceof ChainsmithError
            ? err
            : new ChainsmithError(
                'StorageFailed',
                `storing for ${repositoryName(image)}@${image.digest}: ${String(err)}`,
                { cause: err },
              );
        // a refused cloud token is minted again on the retry, not reused until it expires
        if (e.reason === 'RegistryUnauthorized' || e.reason === 'RegistryForbidden')
          this.deps.credentials.refused?.(override && !bundleMode ? override.registry : image.registry);
        this.deps.logger?.warn('oci store failed', {
          image: `${repositoryName(image)}@${image.digest}`,
          reason: e.reason,
          error: e.message,
        });
        failures.push(e);
      }
    }
    for (const note of notes) this.deps.logger?.info('oci store note', { key: req.fullKey, note });
    const first = failures[0];
    if (first) {
      if (failures.length === 1 && images.length === 1) throw first;
      throw new ChainsmithError(
        first.reason,
        `${failures.length} of ${images.length} OCI stores failed; first: ${first.message}`,
        { transient: first.transient, cause: first },
      );
    }
    return notes.length > 0 ? { notes } : {};
  }

  private async storeTag(
    req: StoreRequest,
    image: ImageTarget,
    override: OciReference | undefined,
    clientFor: (registry: string) => Promise<RegistryClient>,
    holders: Map<string, string>,
  ): Promise<AttachOutcome> {
    const target = override ?? image;
    const client = await clientFor(target.registry);
    const simple = req.payload.kind === 'simplesigning';
    const layer = simple
      ? signatureLayer(req.signed.payload, req.signed.signature, req.signed.cert, req.signed.chain, req.tlogEntry)
      : attestationLayer(
          req.signed.signature,
          req.payload.predicateType ?? predicateTypeOf(req.payload.bytes),
          req.signed.cert,
          req.signed.chain,
          req.tlogEntry,
        );
    const holder = holders.get(target.registry);
    if (req.tlogEntry?.majorApiVersion === 2)
      this.deps.logger?.warn('oci store note', {
        key: req.fullKey,
        note:
          "the .sig/.att layout has no place for a Rekor v2 entry (only for the signature's timestamp): verifiers " +
          'find the entry only in sigstore-bundle referrers (storage.oci.encoding-format: sigstore-bundle)',
      });
    const outcome = await appendToAttachment(
      {
        client,
        repository: target.repository,
        tag: attachmentTag(image.digest, simple ? 'sig' : 'att'),
        layer,
        attestation: !simple,
        ...(holder === undefined ? {} : { mountFrom: holder }),
        ...(req.signed.publicKey === undefined ? {} : { publicKey: req.signed.publicKey }),
      },
      this.locks,
      this.envelopes,
    );
    holders.set(target.registry, target.repository);
    return outcome;
  }

  private async storeReferrer(req: StoreRequest, image: ImageTarget, client: RegistryClient): Promise<AttachOutcome> {
    if (req.payload.kind === 'simplesigning') {
      // The pipeline signs a cosign-sign statement for images stored as bundles (formats/cosign-sign.ts): a raw
      // simple-signing signature cannot be made into a bundle any verifier accepts.
      throw new ChainsmithError(
        'StorageFailed',
        `${req.fullKey}: a simple-signing signature cannot be stored as a sigstore bundle; ` +
          'image signatures for encoding-format sigstore-bundle are cosign-sign statements',
      );
    }
    const bundle = dsseBundle(
      req.signed.signature,
      req.signed.cert,
      req.tlogEntry,
      req.tlogEntry?.rfc3161Timestamps ?? [],
    );
    const predicateType = req.payload.predicateType ?? predicateTypeOf(req.payload.bytes) ?? '';
    return attachReferrer(
      { client, image, bundle, predicateType, content: 'dsse-envelope', ...this.nowOpt() },
      this.locks,
    );
  }

  private nowOpt(): { now?: () => Date } {
    return this.deps.now ? { now: this.deps.now } : {};
  }

  private async client(
    registry: string,
    keychain: Keychain,
    insecure: boolean,
    deadline: Deadline,
  ): Promise<RegistryClient> {
    const credential = await keychain.resolve(registry);
    return new RegistryClient({
      registry,
      ...(credential === undefined ? {} : { credential }),
      insecure,
      deadline,
      tokenCache: this.tokens,
      ...(this.deps.caBundle === undefined ? {} : { caBundle: this.deps.caBundle }),
      ...(this.deps.timeoutMs === undefined ? {} : { timeoutMs: this.deps.timeoutMs }),
      ...(this.deps.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: this.deps.idleTimeoutMs }),
      ...(this.deps.retry === undefined ? {} : { retry: this.deps.retry }),
      ...(this.deps.logger === undefined ? {} : { logger: this.deps.logger }),
    });
  }
}

function parseOverride(value: string): OciReference {
  const ref = parseRepository(value);
  if (!ref)
    throw new ChainsmithError(
      'InvalidConfig',
      `storage.oci.repository: "${value}" is not a repository name (registry/path, no tag or digest)`,
    );
  return ref;
}

function predicateTypeOf(statement: Buffer): string | undefined {
  try {
    const t = (JSON.parse(statement.toString('utf8')) as { predicateType?: unknown }).predicateType;
    return typeof t === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}
