// The signers the controller signs with: built once, rebuilt only when their inputs change.
// The x509 key files are watched (Kubernetes swaps a mounted Secret by re-pointing the `..data` symlink, so we watch
// the directory and re-stat the files) and the KMS signer is rebuilt when its config changes.
import { statSync, watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError, messageOf } from '../errors.js';
import { KEY_FILES, loadFileSigner } from './keys.js';
import type { Signer } from './signer.js';

export { loadFileSigner } from './keys.js';
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
  /** how often the key files are re-stat'ed in case fs.watch misses an event (default 5000 ms) */
  pollIntervalMs?: number;
  logger?: RegistryLogger;
}

const DEFAULT_POLL_MS = 5000;
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
  private kms: { key: string; signer: Promise<Signer> } | undefined;
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
    this.fingerprint = this.fingerprintSync();
    this.startWatching();
    this.poller = setInterval(() => this.scheduleCheck(0), opts.pollIntervalMs ?? DEFAULT_POLL_MS);
    this.poller.unref();
  }

  /** The signer for `name` under `config`; throws (a cached ChainsmithError) when it cannot be built. */
  get(name: 'x509' | 'kms', config: ChainsConfig): Promise<Signer> {
    if (name === 'x509') {
      if (config.signers.x509.fulcioEnabled) return this.keylessSigner(config);
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
  private keylessSigner(config: ChainsConfig): Promise<Signer> {
    const x509 = config.signers.x509;
    const factory = this.keylessFactory;
    if (!factory)
      return Promise.reject(
        new ChainsmithError('KeylessFailed', 'keyless signing is not available in this process (no Fulcio client)'),
      );
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
    if (this.kms?.key === key) return this.kms.signer;
    const signer = Promise.resolve().then(() => factory(cfg));
    const entry = { key, signer };
    this.kms = entry;
    // A permanent failure stays cached until the config changes; a transient one (network) is retried next time.
    signer.catch((err: unknown) => {
      const transient = err instanceof ChainsmithError ? err.transient : true;
      if (transient && this.kms === entry) this.kms = undefined;
    });
    return signer;
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
