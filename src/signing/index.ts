// The signers the controller signs with: built once, rebuilt only when their inputs change.
// The x509 key files are watched (Kubernetes swaps a mounted Secret by re-pointing the `..data` symlink, so we watch
// the directory and re-stat the files) and the KMS signer is rebuilt when its config changes.
import { statSync, watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError, messageOf } from '../errors.js';
import type { PolicyConfig } from '../policy/types.js';
import { KEY_FILES, loadFileSigner, signerFromKeyMaterial } from './keys.js';
import type { Signer } from './signer.js';

export { loadFileSigner, signerFromKeyMaterial } from './keys.js';
export type { Signer, SignedPayload } from './signer.js';

type KmsConfig = ChainsConfig['signers']['kms'];

/** What a keyless signer is built from (`signers.x509.fulcio.*`, `signers.x509.identity.token.file`). */
export interface KeylessSignerConfig {
  address: string;
  issuer: string;
  provider?: string;
  tokenFile?: string;
  /** `chainsmith.keyless.reuse-certificate`: the factory may hand out the same signer while its certificate lasts */
  reuseCertificate?: boolean;
  /** a SigningPolicy's keyless identity: the token is asked for on demand (`source` names it in messages) */
  tokenFetch?: { source: string; get: () => Promise<string> };
}

/** A Secret of the controller's namespace, as a SigningPolicy's x509 signer reads it (undefined: it does not exist). */
export interface SecretKeyData {
  /** the Secret's resourceVersion: the signer is rebuilt when it changes */
  version: string;
  data: Record<string, Buffer>;
}

/** The few logger methods the registry uses (a winston Logger fits). */
export interface RegistryLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

export interface SignerRegistryOptions {
  /** the mounted `signing-secrets` Secret (Chains: /etc/signing-secrets) */
  secretsDir: string;
  /** builds the KMS signer; supplied by the controller from src/signing/kms */
  kmsFactory?: (cfg: KmsConfig) => Promise<Signer>;
  /**
   * builds a keyless signer (a fresh ephemeral key and, at its first signature, a Fulcio certificate) for each
   * `get`; supplied by the controller from src/sigstore/keyless.ts
   */
  keylessFactory?: (cfg: KeylessSignerConfig) => Signer;
  /**
   * reads a Secret of the controller's namespace (SigningPolicy x509 signers); supplied by the controller from
   * src/kube. Without it, policies naming a Secret cannot sign.
   */
  secretReader?: (name: string) => Promise<SecretKeyData | undefined>;
  /**
   * a token of ServiceAccount `serviceAccount` in `namespace` for `audience` (the TokenRequest API), for
   * SigningPolicies with a keyless signer; supplied by the controller from src/kube
   */
  tokenRequester?: (namespace: string, serviceAccount: string, audience: string) => Promise<string>;
  /** how long a policy Secret's signer is used before the Secret is read again (default 30 s) */
  secretRecheckMs?: number;
  /** how often the key files are re-stat'ed in case fs.watch misses an event (default 5000 ms) */
  pollIntervalMs?: number;
  logger?: RegistryLogger;
}

const DEFAULT_POLL_MS = 5000;
const DEFAULT_SECRET_RECHECK_MS = 30_000;
/** KMS signers kept at once (chains-config's and SigningPolicies'); the least recently used is dropped beyond it. */
const MAX_KMS_SIGNERS = 64;
/** Secret signers kept at once (SigningPolicies'); the least recently used is dropped beyond it. */
const MAX_SECRET_SIGNERS = 256;

interface SecretSlot {
  /** the Secret's resourceVersion the signer was built from ('' while the first read is in flight) */
  version: string;
  signer: Promise<Signer>;
  checkedAt: number;
  refreshing?: Promise<Signer>;
}
// fs.watch reports several events for one Secret update (new dir, symlink, rename); settle before re-stat'ing.
const SETTLE_MS = 50;

/** Holds the x509 and KMS signers; reloads the key files when they change and tells listeners. */
export class SignerRegistry {
  private readonly secretsDir: string;
  private readonly kmsFactory: SignerRegistryOptions['kmsFactory'];
  private readonly keylessFactory: SignerRegistryOptions['keylessFactory'];
  private readonly logger: RegistryLogger | undefined;
  private readonly listeners: Array<() => void> = [];
  /** the x509 signer or its load error, cached until the key files change */
  private x509: Promise<Signer> | undefined;
  /** KMS signers by their config (JSON), least recently used first */
  private readonly kms = new Map<string, Promise<Signer>>();
  private readonly secretReader: SignerRegistryOptions['secretReader'];
  private readonly tokenRequester: SignerRegistryOptions['tokenRequester'];
  private readonly secretRecheckMs: number;
  /** SigningPolicy signers by Secret name, least recently used first */
  private readonly secrets = new Map<string, SecretSlot>();
  private fingerprint: string;
  private watcher: FSWatcher | undefined;
  private readonly poller: NodeJS.Timeout;
  private settleTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(opts: SignerRegistryOptions) {
    this.secretsDir = opts.secretsDir;
    this.kmsFactory = opts.kmsFactory;
    this.keylessFactory = opts.keylessFactory;
    this.logger = opts.logger;
    this.secretReader = opts.secretReader;
    this.tokenRequester = opts.tokenRequester;
    this.secretRecheckMs = opts.secretRecheckMs ?? DEFAULT_SECRET_RECHECK_MS;
    this.fingerprint = this.fingerprintSync();
    this.startWatching();
    this.poller = setInterval(() => this.scheduleCheck(0), opts.pollIntervalMs ?? DEFAULT_POLL_MS);
    this.poller.unref();
  }

  /** The signer for `name` under `config`; throws (a cached ChainsmithError) when it cannot be built. */
  get(name: 'x509' | 'kms', config: ChainsConfig | PolicyConfig): Promise<Signer> {
    if (name === 'x509') {
      if (config.signers.x509.fulcioEnabled) return this.keylessSigner(config);
      const secret = 'policy' in config ? config.policy?.secretName : undefined;
      if (secret !== undefined) return this.secretSigner(secret, config as PolicyConfig);
      return (this.x509 ??= this.loadX509());
    }
    return this.kmsSigner(config.signers.kms);
  }

  /** Registers a listener called after the signing key files changed (the new signer is already loading). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Stops watching the secrets directory. */
  close(): void {
    this.closed = true;
    clearInterval(this.poller);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private loadX509(): Promise<Signer> {
    const p = loadFileSigner(this.secretsDir);
    // The promise is cached and may be awaited by nobody (e.g. an eager reload); never an unhandled rejection.
    p.catch(() => undefined);
    return p;
  }

  /**
   * A keyless signer per call (a new one each time unless `chainsmith.keyless.reuse-certificate`); the x509 key
   * files are not read.
   */
  private keylessSigner(config: ChainsConfig | PolicyConfig): Promise<Signer> {
    const x509 = config.signers.x509;
    const factory = this.keylessFactory;
    if (!factory)
      return Promise.reject(
        new ChainsmithError('KeylessFailed', 'keyless signing is not available in this process (no Fulcio client)'),
      );
    const policy = 'policy' in config ? config.policy : undefined;
    if (policy?.keyless) {
      // a SigningPolicy's identity: a token of the tenant's ServiceAccount, never the controller's own token file
      const requester = this.tokenRequester;
      if (!requester)
        return Promise.reject(
          new ChainsmithError('KeylessFailed', 'this process cannot request ServiceAccount tokens for SigningPolicies'),
        );
      const { serviceAccount, audience } = policy.keyless;
      const source = `a token of ServiceAccount ${policy.namespace}/${serviceAccount} for audience ${audience}`;
      return Promise.resolve().then(() =>
        factory({
          address: x509.fulcioAddress,
          issuer: x509.fulcioIssuer,
          tokenFetch: { source, get: () => requester(policy.namespace, serviceAccount, audience) },
          ...(config.chainsmith.keylessReuseCertificate ? { reuseCertificate: true } : {}),
        }),
      );
    }
    return Promise.resolve().then(() =>
      factory({
        address: x509.fulcioAddress,
        issuer: x509.fulcioIssuer,
        ...(x509.fulcioProvider ? { provider: x509.fulcioProvider } : {}),
        ...(x509.identityTokenFile ? { tokenFile: x509.identityTokenFile } : {}),
        ...(config.chainsmith.keylessReuseCertificate ? { reuseCertificate: true } : {}),
      }),
    );
  }

  private kmsSigner(cfg: KmsConfig): Promise<Signer> {
    const factory = this.kmsFactory;
    if (!factory) {
      return Promise.reject(
        new ChainsmithError('KmsError', 'KMS signing is not configured in this controller (no KMS provider available)'),
      );
    }
    if (!cfg.kmsref) {
      return Promise.reject(new ChainsmithError('KmsError', 'signers.kms.kmsref is not set in chains-config'));
    }
    const key = JSON.stringify(cfg);
    const cached = this.kms.get(key);
    if (cached) {
      this.kms.delete(key);
      this.kms.set(key, cached);
      return cached;
    }
    const signer = Promise.resolve().then(() => factory(cfg));
    this.kms.set(key, signer);
    while (this.kms.size > MAX_KMS_SIGNERS) this.kms.delete(this.kms.keys().next().value!);
    // A permanent failure stays cached until the config changes; a transient one (network) is retried next time.
    signer.catch((err: unknown) => {
      const transient = err instanceof ChainsmithError ? err.transient : true;
      if (transient && this.kms.get(key) === signer) this.kms.delete(key);
    });
    return signer;
  }

  /**
   * The signer of a SigningPolicy's Secret (controller's namespace), read through the API and rebuilt when the
   * Secret's resourceVersion changes; the Secret is read again at most every secretRecheckMs, so a rotated tenant
   * key signs from then on.
   */
  private secretSigner(name: string, config: PolicyConfig): Promise<Signer> {
    const reader = this.secretReader;
    const policy = config.policy ? `SigningPolicy ${config.policy.namespace}/${config.policy.name}` : 'a SigningPolicy';
    if (!reader)
      return Promise.reject(
        new ChainsmithError('KeyNotFound', `${policy} names Secret "${name}", but this process reads no Secrets`),
      );
    const now = Date.now();
    let slot = this.secrets.get(name);
    if (slot) {
      this.secrets.delete(name);
      this.secrets.set(name, slot);
      if (now - slot.checkedAt < this.secretRecheckMs) return slot.signer;
      return (slot.refreshing ??= this.refreshSecret(name, slot));
    }
    slot = { version: '', signer: Promise.resolve(undefined as unknown as Signer), checkedAt: now };
    const first = this.refreshSecret(name, slot);
    slot.signer = first;
    this.secrets.set(name, slot);
    while (this.secrets.size > MAX_SECRET_SIGNERS) this.secrets.delete(this.secrets.keys().next().value!);
    return first;
  }

  private async refreshSecret(name: string, slot: SecretSlot): Promise<Signer> {
    try {
      let secret: SecretKeyData | undefined;
      try {
        secret = await this.secretReader!(name);
      } catch (err) {
        // the API did not answer (the reader's errors are KubeApiErrors, ChainsmithErrors too): try again next time
        slot.checkedAt = 0;
        throw new ChainsmithError(
          'KeyNotFound',
          `reading Secret "${name}" of the controller's namespace: ${messageOf(err)}`,
          {
            transient: true,
            cause: err,
          },
        );
      }
      slot.checkedAt = Date.now();
      if (!secret) {
        // transient: the platform team may be about to create it; retried within the retry horizon
        const err = new ChainsmithError(
          'KeyNotFound',
          `the SigningPolicy's Secret "${name}" does not exist in the controller's namespace`,
          { transient: true },
        );
        slot.version = '';
        slot.signer = Promise.reject(err);
        slot.signer.catch(() => undefined);
        // a missing Secret is looked up again on the next run, not after secretRecheckMs
        slot.checkedAt = 0;
        throw err;
      }
      if (secret.version !== slot.version || slot.version === '') {
        // no policy named here: the signer (and its error) is shared by every policy granted this Secret, and a
        // message naming one tenant's policy must not reach another tenant's Events
        const where = `Secret "${name}" of the controller's namespace`;
        const files = Object.fromEntries(KEY_FILES.map((f) => [f, secret.data[f]]));
        const signer = signerFromKeyMaterial(files, where);
        signer.catch(() => undefined);
        if (slot.version !== '')
          this.logger?.info('a SigningPolicy Secret changed; reloading its signer', { secret: name });
        slot.version = secret.version;
        slot.signer = signer;
      }
      return await slot.signer;
    } finally {
      slot.refreshing = undefined;
    }
  }

  private startWatching(): void {
    if (this.watcher || this.closed) return;
    try {
      this.watcher = watch(this.secretsDir, { persistent: false }, () => this.scheduleCheck(SETTLE_MS));
      this.watcher.on('error', () => {
        // The directory went away or was replaced: fall back to polling, which re-arms the watch.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // No directory yet (a KMS-only setup, or the Secret not mounted): polling notices when it appears.
      this.watcher = undefined;
    }
  }

  private scheduleCheck(delayMs: number): void {
    if (this.closed) return;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.checking = this.checking.then(() => this.check());
    }, delayMs);
    this.settleTimer.unref();
  }

  private async check(): Promise<void> {
    if (this.closed) return;
    this.startWatching();
    const now = await this.fingerprintAsync();
    if (now === this.fingerprint || this.closed) return;
    this.fingerprint = now;
    this.logger?.info('signing secrets changed; reloading the x509 signer', { secretsDir: this.secretsDir });
    if (this.x509) {
      // Reload eagerly only when the x509 signer is in use, so a KMS-only setup does not log key errors.
      const reloading = this.loadX509();
      this.x509 = reloading;
      reloading.then(
        (s) => this.logger?.info('x509 signer reloaded', { signer: s.description }),
        (err: unknown) => this.logger?.warn('x509 signer reload failed', { error: messageOf(err) }),
      );
    }
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.logger?.warn('signing secrets change listener failed', { error: messageOf(err) });
      }
    }
  }

  private fingerprintSync(): string {
    return KEY_FILES.map((f) => {
      try {
        return describeStat(f, statSync(join(this.secretsDir, f)));
      } catch (err) {
        return `${f}:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
      }
    }).join('|');
  }

  private async fingerprintAsync(): Promise<string> {
    const parts = await Promise.all(
      KEY_FILES.map(async (f) => {
        try {
          return describeStat(f, await stat(join(this.secretsDir, f)));
        } catch (err) {
          return `${f}:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
        }
      }),
    );
    return parts.join('|');
  }
}

// stat follows symlinks, so a `..data` swap shows up as a new inode even when size and mtime look the same.
function describeStat(name: string, s: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${name}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}
