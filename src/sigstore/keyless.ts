// Keyless signing (chains-behaviour.md §5, Chains `fulcioSigner`): each signer is a fresh ephemeral ECDSA P-256 key
// and a Fulcio certificate binding it to the controller's OIDC identity (its projected ServiceAccount token). The
// certificate is asked for at the first signature, so a signer that is never used costs no Fulcio request. The
// private key lives only in this object: never exported, never logged, gone with it.
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { ChainsmithError } from '../errors.js';
import type { KeylessSignerConfig } from '../signing/index.js';
import type { Signer } from '../signing/signer.js';
import { FulcioClient, type SigningCertificate } from './fulcio.js';
import { describeToken, readIdentityToken, type TokenSourceConfig } from './identity-token.js';

/** The chains-config keys of a keyless signer (`signers.x509.fulcio.*`, `signers.x509.identity.token.file`). */
export type KeylessConfig = KeylessSignerConfig;

/** A certificate is not used for a signature in its last seconds (clock skew between us, Fulcio and verifiers). */
const VALIDITY_MARGIN_MS = 30_000;
/** With `reuse-certificate`, a signer is handed out again only while its certificate has this much time left. */
export const REUSE_MIN_REMAINING_MS = 2 * 60_000;
/** Shared keyless signers kept (one per identity) with `reuseCertificate`. */
const MAX_SHARED_KEYLESS = 256;

export class KeylessSigner implements Signer {
  readonly keyless = true;
  readonly description: string;
  private readonly privateKey: KeyObject;
  private readonly publicKeyObject: KeyObject;
  private certificate: SigningCertificate | undefined;
  private pending: Promise<SigningCertificate> | undefined;

  constructor(
    private readonly fulcio: FulcioClient,
    private readonly tokens: TokenSourceConfig,
    private readonly now: () => Date = () => new Date(),
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKeyObject = pair.publicKey;
    this.description = `keyless (ephemeral ECDSA P-256, Fulcio ${fulcio.url})`;
  }

  async sign(data: Buffer): Promise<Buffer> {
    const certificate = await this.ensureCertificate();
    const until = Date.parse(certificate.leaf.validTo);
    if (!(this.now().getTime() + VALIDITY_MARGIN_MS < until))
      throw new ChainsmithError('KeylessFailed', `the Fulcio certificate expired at ${new Date(until).toISOString()}`, {
        transient: true,
      });
    return cryptoSign('sha256', data, this.privateKey);
  }

  publicKey(): KeyObject {
    return this.publicKeyObject;
  }

  /** The Fulcio certificate, once the first signature asked for it ("" before). */
  cert(): string {
    return this.certificate?.cert ?? '';
  }

  chain(): string {
    return this.certificate?.chain ?? '';
  }

  /** Whether the signer can still sign for `ms` (true before its certificate is asked for). */
  usableFor(ms: number): boolean {
    if (!this.certificate) return true;
    return this.now().getTime() + ms < Date.parse(this.certificate.leaf.validTo);
  }

  private ensureCertificate(): Promise<SigningCertificate> {
    if (this.certificate) return Promise.resolve(this.certificate);
    this.pending ??= this.request().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async request(): Promise<SigningCertificate> {
    const token = await readIdentityToken(this.tokens, process.env, this.now());
    const proof = cryptoSign('sha256', Buffer.from(token.challenge), this.privateKey);
    try {
      this.certificate = await this.fulcio.signingCertificate(token.jwt, this.publicKeyObject, proof);
    } catch (err) {
      // Fulcio's refusals are generic ("error processing the identity token"): say which token it was
      if (err instanceof ChainsmithError && !err.transient)
        throw new ChainsmithError(err.reason, `${err.message} (${describeToken(token)})`, { cause: err });
      throw err;
    }
    return this.certificate;
  }
}

/**
 * Builds keyless signers; one Fulcio client per address. By default every call gets a new signer (a key and a
 * certificate per signed object). With `reuseCertificate` the same signer is handed out while its certificate has
 * REUSE_MIN_REMAINING_MS left: one Fulcio request per ~8 minutes instead of one per object, at the price of one
 * ephemeral key signing many objects (each still gets its own Rekor entry, which names the certificate).
 */
export function keylessSignerFactory(now: () => Date = () => new Date()): (cfg: KeylessConfig) => Signer {
  let client: FulcioClient | undefined;
  // one shared signer per identity (a SigningPolicy's tenant ServiceAccount, or the controller's token file): tenants
  // signing in turn keep their certificates instead of replacing each other's; bounded, least recently used first
  const shared = new Map<string, KeylessSigner>();
  return (cfg) => {
    if (client?.url !== cfg.address) client = new FulcioClient({ url: cfg.address });
    const tokens = {
      ...(cfg.provider ? { provider: cfg.provider } : {}),
      ...(cfg.tokenFile ? { tokenFile: cfg.tokenFile } : {}),
      ...(cfg.tokenFetch ? { fetch: cfg.tokenFetch } : {}),
    };
    if (!cfg.reuseCertificate) return new KeylessSigner(client, tokens, now);
    const key = JSON.stringify([cfg.address, cfg.provider, cfg.tokenFile, cfg.tokenFetch?.source]);
    const reused = shared.get(key);
    shared.delete(key);
    if (reused?.usableFor(REUSE_MIN_REMAINING_MS)) {
      shared.set(key, reused);
      return reused;
    }
    const signer = new KeylessSigner(client, tokens, now);
    shared.set(key, signer);
    while (shared.size > MAX_SHARED_KEYLESS) shared.delete(shared.keys().next().value!);
    return signer;
  };
}
