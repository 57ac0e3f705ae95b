// Storage backend `gcs` (spec §4.4, Chains pkg/chains/storage/gcs): four objects per signature in the bucket of
// `storage.gcs.bucket`, named as Chains names them, holding raw bytes (not base64):
//   <kind>-<namespace>-<name>/<shortKey>.signature   signature (DSSE envelope JSON, or raw signature for images)
//   <kind>-<namespace>-<name>/<shortKey>.payload     the signed payload (statement or simplesigning JSON)
//   <kind>-<namespace>-<name>/<shortKey>.cert|.chain the signer's PEM certificate and chain, empty without one
// <kind> is `taskrun` or `pipelinerun` (the run the signature came from: image signatures sit under their TaskRun).
// Through @google-cloud/storage with application default credentials; `STORAGE_EMULATOR_HOST` points it at an
// emulator. Unlike Chains, which ignores the error of closing a GCS writer (where the upload happens), a failed
// write fails the store.
import { ChainsmithError } from '../errors.js';
import type { ChainsConfig } from '../config/types.js';
import { invalidConfig, isNetworkError, isTransientStatus, storageFailed } from './backend-errors.js';
import type { Storer, StoreRequest, StoreResult } from './storer.js';

/** Writes one object; the only thing the backend needs from a GCS client. */
export interface GcsObjectWriter {
  write(bucket: string, name: string, data: Buffer): Promise<void>;
}

/** The object names of one signature, exactly as Chains writes them. */
export function gcsObjectNames(req: Pick<StoreRequest, 'run' | 'shortKey'>): {
  signature: string;
  payload: string;
  cert: string;
  chain: string;
} {
  const kind = req.run.kind === 'PipelineRun' ? 'pipelinerun' : 'taskrun';
  const prefix = `${kind}-${req.run.metadata.namespace ?? ''}-${req.run.metadata.name ?? ''}/${req.shortKey}`;
  return {
    signature: `${prefix}.signature`,
    payload: `${prefix}.payload`,
    cert: `${prefix}.cert`,
    chain: `${prefix}.chain`,
  };
}

/** The `gcs` backend. */
export class GcsStorer implements Storer {
  readonly name = 'gcs';
  readonly settings: string;
  private readonly bucket: string | undefined;
  private writer: Promise<GcsObjectWriter> | undefined;

  constructor(
    config: ChainsConfig,
    private readonly openWriter: () => Promise<GcsObjectWriter> = openSdkWriter,
  ) {
    this.bucket = config.storage.gcs.bucket?.trim() || undefined;
    this.settings = gcsSettings(config);
  }

  async store(req: StoreRequest): Promise<StoreResult> {
    const bucket = this.bucket;
    if (!bucket) throw invalidConfig('gcs', 'storage.gcs.bucket is not set; name the bucket to store signatures in');
    const names = gcsObjectNames(req);
    const writer = await this.client();
    const objects: Array<[string, Buffer]> = [
      [names.signature, req.signed.signature],
      [names.payload, req.signed.payload],
      [names.cert, Buffer.from(req.signed.cert, 'utf8')],
      [names.chain, Buffer.from(req.signed.chain, 'utf8')],
    ];
    // independent objects: written together; a retry overwrites them all
    await Promise.all(
      objects.map(async ([name, data]) => {
        try {
          await writer.write(bucket, name, data);
        } catch (err) {
          throw storageFailed('gcs', `writing gs://${bucket}/${name}`, err, isTransientGcsError(err));
        }
      }),
    );
    return {};
  }

  private async client(): Promise<GcsObjectWriter> {
    const pending = (this.writer ??= this.openWriter());
    try {
      return await pending;
    } catch (err) {
      this.writer = undefined;
      throw err instanceof ChainsmithError ? err : storageFailed('gcs', 'creating the client', err, false);
    }
  }
}

/** The keys the `gcs` backend is built from. */
export function gcsSettings(config: ChainsConfig): string {
  return JSON.stringify({ bucket: config.storage.gcs.bucket ?? '' });
}

/** True for GCS failures worth retrying: network, 408/429/5xx. */
export function isTransientGcsError(err: unknown): boolean {
  if (isNetworkError(err)) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && isTransientStatus(code);
}

/**
 * The emulator endpoint as Chains' Go client reads `STORAGE_EMULATOR_HOST`: a bare `host:port` means plain http
 * (the Node SDK would assume https), a URL is taken as it is.
 */
export function emulatorEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const host = env.STORAGE_EMULATOR_HOST?.trim();
  if (!host) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `http://${host}`;
}

/** A writer backed by @google-cloud/storage, loaded on first use so an unused backend costs no memory. */
async function openSdkWriter(): Promise<GcsObjectWriter> {
  const { Storage, IdempotencyStrategy } = await import('@google-cloud/storage');
  const apiEndpoint = emulatorEndpoint();
  const storage = new Storage({
    ...(apiEndpoint ? { apiEndpoint } : {}),
    // our objects are overwritten whole, so a retried upload is safe; few retries, the controller retries the run
    retryOptions: {
      autoRetry: true,
      maxRetries: 2,
      totalTimeout: 60,
      idempotencyStrategy: IdempotencyStrategy.RetryAlways,
    },
  });
  return {
    write: (bucket, name, data) =>
      storage.bucket(bucket).file(name).save(data, { resumable: false, validation: 'crc32c' }),
  };
}
