// Storage backend `archivista` (spec §4.4, Chains pkg/chains/storage/archivista): the DSSE envelope of an attestation,
// POSTed to `<storage.archivista.url>/upload` as Chains' client sends it (go-witness' Envelope re-encoded by Go:
// `{"payload","payloadType","signatures":[{"keyid","sig"}]}` plus a newline), so Archivista computes the same gitoid
// (sha256 over "blob <len>\0" + the body) for the same signature. Archivista answers `{"gitoid": …}`; Chains only logs
// it, chainsmith returns it as a note (logged). Image signatures (simplesigning) are not DSSE envelopes: Chains fails
// them with "Failed to parse DSSE envelope"; chainsmith fails them too, with InvalidConfig saying to remove archivista
// from artifacts.oci.storage. Uploading the same envelope twice makes Archivista answer 500 (its gitoid column is
// unique); a retry that finds its envelope already stored under that gitoid counts as stored.
import { createHash } from 'node:crypto';
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError } from '../errors.js';
import { goJsonEscape } from '../formats/go-json.js';
import { parseEnvelope } from '../sigstore/dsse.js';
import { displayUrl, invalidConfig, isNetworkError, isTransientStatus, storageFailed } from './backend-errors.js';
import type { Storer, StoreRequest, StoreResult } from './storer.js';

const TIMEOUT_MS = 30_000;
/** what PostgreSQL, MySQL and SQLite say when the gitoid is already there */
const DUPLICATE = /duplicate key|duplicate entry|unique constraint/i;

/** The body Chains' Archivista client sends for an envelope; undefined when `signature` is not a DSSE envelope. */
export function archivistaBody(signature: Buffer): Buffer | undefined {
  const env = parseEnvelope(signature);
  if (!env) return undefined;
  const sigs = env.signatures
    .map((s) => `{"keyid":${JSON.stringify(s.keyid)},"sig":"${s.sig.toString('base64')}"}`)
    .join(',');
  const json =
    `{"payload":"${env.payload.toString('base64')}",` +
    `"payloadType":${JSON.stringify(env.payloadType)},` +
    `"signatures":[${sigs}]}`;
  return Buffer.from(goJsonEscape(json) + '\n', 'utf8');
}

/** Archivista's id of an uploaded body: the git blob id with SHA-256. */
export function gitoidOf(body: Buffer): string {
  return createHash('sha256').update(`blob ${body.length}\0`).update(body).digest('hex');
}

/** The `archivista` backend. */
export class ArchivistaStorer implements Storer {
  readonly name = 'archivista';
  readonly settings: string;
  private readonly base: { url: URL; authorization?: string } | ChainsmithError;

  constructor(
    config: ChainsConfig,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    this.settings = archivistaSettings(config);
    this.base = parseBase(config.storage.archivista.url);
  }

  async store(req: StoreRequest): Promise<StoreResult> {
    const base = this.base;
    if (base instanceof ChainsmithError) throw base;
    const body = archivistaBody(req.signed.signature);
    if (!body) {
      const what = req.payload.kind === 'simplesigning' ? 'image signature' : 'signature';
      throw invalidConfig(
        'archivista',
        `the ${what} of ${req.fullKey} is not a DSSE envelope and Archivista stores DSSE envelopes only ` +
          '(Chains fails here too); remove archivista from artifacts.oci.storage',
      );
    }
    const gitoid = gitoidOf(body);
    const where = `uploading ${req.shortKey} to ${displayUrl(base.url.href)}`;
    const response = await this.request(
      base,
      'upload',
      { method: 'POST', body, contentType: 'application/json' },
      where,
    );
    const text = await response.text();
    if (response.status === 200) {
      let stored: unknown;
      try {
        stored = (JSON.parse(text) as { gitoid?: unknown }).gitoid;
      } catch {
        stored = undefined;
      }
      if (typeof stored !== 'string' || !stored)
        throw storageFailed('archivista', where, new Error(`unexpected answer: ${text.slice(0, 200)}`), false);
      return { notes: [`archivista gitoid ${stored}`] };
    }
    if (DUPLICATE.test(text) && (await this.alreadyStored(base, gitoid, body)))
      return { notes: [`archivista gitoid ${gitoid} (already stored)`] };
    throw storageFailed(
      'archivista',
      where,
      new Error(`HTTP ${response.status}: ${text.trim().slice(0, 500)}`),
      isTransientStatus(response.status),
    );
  }

  /** True when Archivista serves exactly `body` under `gitoid`. */
  private async alreadyStored(
    base: { url: URL; authorization?: string },
    gitoid: string,
    body: Buffer,
  ): Promise<boolean> {
    try {
      const r = await this.request(base, `download/${gitoid}`, { method: 'GET' }, 'checking an earlier upload');
      return r.status === 200 && Buffer.from(await r.arrayBuffer()).equals(body);
    } catch {
      return false;
    }
  }

  private async request(
    base: { url: URL; authorization?: string },
    path: string,
    init: { method: string; body?: Buffer; contentType?: string },
    where: string,
  ): Promise<Response> {
    const url = new URL(base.url.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
    const headers: Record<string, string> = {};
    if (init.contentType) headers['content-type'] = init.contentType;
    if (base.authorization) headers.authorization = base.authorization;
    try {
      return await this.fetchFn(url, {
        method: init.method,
        headers,
        ...(init.body ? { body: new Uint8Array(init.body) } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw storageFailed('archivista', where, err, isNetworkError(err));
    }
  }
}

/** The keys the `archivista` backend is built from. */
export function archivistaSettings(config: ChainsConfig): string {
  return JSON.stringify({ url: config.storage.archivista.url ?? '' });
}

/** The server URL without userinfo (fetch refuses it), which becomes basic auth as Go's client would send it. */
function parseBase(raw: string | undefined): { url: URL; authorization?: string } | ChainsmithError {
  if (!raw?.trim())
    // Chains: "missing archivista URL in storage configuration"
    return invalidConfig(
      'archivista',
      'storage.archivista.url is not set; give the Archivista server URL, e.g. https://archivista.example.com',
    );
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return invalidConfig('archivista', `storage.archivista.url ${displayUrl(raw)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return invalidConfig('archivista', `storage.archivista.url ${displayUrl(raw)} must be an http:// or https:// URL`);
  let authorization: string | undefined;
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  return authorization ? { url, authorization } : { url };
}
