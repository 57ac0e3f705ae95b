// Reads back the `gcs` backend: the objects `<kind>-<namespace>-<name>/<shortKey>.payload|.signature|.cert|.chain`
// (src/storage/gcs.ts) under the run's prefix, through @google-cloud/storage (application default credentials,
// `STORAGE_EMULATOR_HOST` as the storer reads it).
import type { ChainsConfig } from '../../config/types.js';
import type { Run } from '../../tekton/types.js';
import { invalidConfig, storageFailed } from '../backend-errors.js';
import { emulatorEndpoint, gcsObjectNames, isTransientGcsError } from '../gcs.js';
import { ownShortKey, type StoredReader, type StoredSignature } from './types.js';

/** What the reader needs from a GCS client. */
export interface GcsObjectReader {
  /** names of the objects starting with `prefix` */
  list(bucket: string, prefix: string): Promise<string[]>;
  read(bucket: string, name: string): Promise<Buffer>;
}

const EXTENSIONS = ['payload', 'signature', 'cert', 'chain'] as const;

/** The `gcs` reader. */
export class GcsReader implements StoredReader {
  readonly name = 'gcs';
  readonly location: string;
  private readonly bucket: string;
  private client: Promise<GcsObjectReader> | undefined;

  constructor(
    config: ChainsConfig,
    private readonly open: () => Promise<GcsObjectReader> = openSdkReader,
  ) {
    const bucket = config.storage.gcs.bucket?.trim();
    if (!bucket) throw invalidConfig('gcs', 'storage.gcs.bucket is not set in chains-config: no bucket to read from');
    this.bucket = bucket;
    this.location = `gs://${bucket}`;
  }

  async read(run: Run): Promise<StoredSignature[]> {
    const prefix = gcsObjectNames({ run, shortKey: '' }).payload.replace(/\.payload$/, '');
    const client = await (this.client ??= this.open());
    const names = await this.call(`listing gs://${this.bucket}/${prefix}*`, () => client.list(this.bucket, prefix));
    const byKey = new Map<string, Partial<Record<(typeof EXTENSIONS)[number], string>>>();
    for (const name of names) {
      const m = /^(.+)\.(payload|signature|cert|chain)$/.exec(name.slice(prefix.length));
      if (!m || m[1]!.includes('/')) continue;
      const parts = byKey.get(m[1]!) ?? {};
      parts[m[2] as (typeof EXTENSIONS)[number]] = name;
      byKey.set(m[1]!, parts);
    }
    const own = ownShortKey(run);
    const keys = [...byKey.keys()].sort((a, b) => (a === own ? -1 : b === own ? 1 : a.localeCompare(b)));
    const out: StoredSignature[] = [];
    for (const shortKey of keys) {
      const parts = byKey.get(shortKey)!;
      const get = async (ext: (typeof EXTENSIONS)[number]): Promise<Buffer | undefined> => {
        const name = parts[ext];
        if (!name) return undefined;
        return this.call(`reading gs://${this.bucket}/${name}`, () => client.read(this.bucket, name));
      };
      const [payload, signature, cert, chain] = await Promise.all(EXTENSIONS.map(get));
      const entry: StoredSignature = {
        shortKey,
        payload: payload ?? Buffer.alloc(0),
        signature: signature ?? Buffer.alloc(0),
        where: `gs://${this.bucket}/${prefix}${shortKey}.signature`,
      };
      if (cert?.length) entry.cert = cert.toString('utf8');
      if (chain?.length) entry.chain = chain.toString('utf8');
      if (!payload?.length || !signature?.length) {
        const missing = payload?.length ? 'signature' : 'payload';
        entry.problem = `gs://${this.bucket}/${prefix}${shortKey}.${missing} is missing or empty`;
      }
      out.push(entry);
    }
    return out;
  }

  private async call<T>(where: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw storageFailed('gcs', where, err, isTransientGcsError(err));
    }
  }
}

/** A reader backed by @google-cloud/storage, loaded on first use. */
async function openSdkReader(): Promise<GcsObjectReader> {
  const { Storage } = await import('@google-cloud/storage');
  const apiEndpoint = emulatorEndpoint();
  const storage = new Storage({
    ...(apiEndpoint ? { apiEndpoint } : {}),
    retryOptions: { autoRetry: true, maxRetries: 1, totalTimeout: 30 },
  });
  // The SDK takes a set STORAGE_EMULATOR_HOST verbatim as the base of its JSON API calls (listing, downloads), where
  // a bare host:port fails ("Only HTTP(S) protocols are supported") and a URL lacks /storage/v1; uploads (the storer)
  // use apiEndpoint and are not affected. The base the emulator serves the JSON API under:
  if (apiEndpoint)
    (storage as unknown as { baseUrl: string }).baseUrl = `${apiEndpoint.replace(/\/+$/, '')}/storage/v1`;
  return {
    async list(bucket, prefix) {
      const [files] = await storage.bucket(bucket).getFiles({ prefix, autoPaginate: true });
      return files.map((f) => f.name);
    },
    async read(bucket, name) {
      const [data] = await storage.bucket(bucket).file(name).download({ validation: false });
      return data;
    },
  };
}
