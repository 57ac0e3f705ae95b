// A small OCI distribution client for one registry: manifests, blobs (monolithic, chunked, cross-repository
// mount), referrers; Basic and Bearer auth from Docker config JSON; retries on 429/5xx/network errors.
import type { Logger } from 'winston';
import { ChainsmithError } from '../errors.js';
import {
  credentialFor,
  credentialIdentity,
  parseWwwAuthenticate,
  repositoryScope,
  TokenCache,
  type AuthChallenge,
  type DockerConfigJson,
  type RegistryCredential,
} from './auth.js';
import { networkError, protocolError, statusError, type RegistryOperation } from './errors.js';
import { sha256Digest, type Descriptor, type ImageIndex } from './manifest.js';
import { MANIFEST_ACCEPT, OCI_INDEX } from './media-types.js';
import { apiHost, isLoopbackRegistry, normaliseRegistry } from './reference.js';
import { backoffDelay, DEFAULT_RETRY, isRetryableStatus, sleep, type RetryPolicy } from './retry.js';
import { HttpTransport, type HttpRequest, type HttpResponse, type TlsOptions } from './transport.js';

/** How to reach and authenticate to one registry. */
export interface RegistryClientOptions {
  /** registry host[:port], e.g. `127.0.0.1:5000`, `ghcr.io`, `index.docker.io` */
  registry: string;
  /** Docker configs in priority order (first match wins) */
  dockerConfigs?: DockerConfigJson[];
  /** allow plain http and skip TLS verification (`storage.oci.repository.insecure: true`) */
  insecure?: boolean;
  /** extra CA certificates (PEM) trusted in addition to Node's roots */
  caBundle?: string;
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** shared across clients so tokens survive between stores */
  tokenCache?: TokenCache;
  /** blobs larger than this are uploaded in PATCH chunks of this size (default 16 MiB) */
  chunkSize?: number;
  logger?: Logger;
}

/** A fetched manifest: its exact bytes, the served media type and the digest of the bytes. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

type Actions = Array<'pull' | 'push'>;

interface Call {
  method: HttpRequest['method'];
  /** path below `/v2/` (or an absolute URL from a Location header) */
  path: string;
  repository: string;
  what: string;
  actions: Actions;
  headers?: Record<string, string>;
  body?: Buffer;
  /** statuses returned to the caller instead of thrown (e.g. 404 for "does not exist") */
  accept?: number[];
  /** false for requests that must not be repeated blindly (upload chunks) */
  retry?: boolean;
  /** extra scopes, e.g. pull on the source repository of a mount */
  extraScopes?: string[];
}

/** A client for one registry. Cheap to build; share a TokenCache between instances. */
export class RegistryClient {
  readonly registry: string;
  private readonly host: string;
  private readonly credential: RegistryCredential | undefined;
  private readonly transport: HttpTransport;
  private readonly retry: RetryPolicy;
  private readonly tokens: TokenCache;
  private readonly insecure: boolean;
  private readonly chunkSize: number;
  private readonly logger: Logger | undefined;
  private scheme: 'http' | 'https' | undefined;
  private readonly mayUseHttp: boolean;
  private challenge: AuthChallenge | undefined;

  constructor(opts: RegistryClientOptions) {
    this.registry = normaliseRegistry(opts.registry);
    this.host = apiHost(this.registry);
    this.credential = credentialFor(opts.dockerConfigs ?? [], this.registry);
    this.insecure = opts.insecure ?? false;
    const tls: TlsOptions = { verify: !this.insecure };
    if (opts.caBundle !== undefined) tls.caBundle = opts.caBundle;
    this.transport = new HttpTransport({ tls, timeoutMs: opts.timeoutMs ?? 30_000 });
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.tokens = opts.tokenCache ?? new TokenCache();
    this.chunkSize = opts.chunkSize ?? 16 * 1024 * 1024;
    this.logger = opts.logger;
    this.challenge = this.tokens.challenge(this.registry);
    // Registries that may speak plain http (loopback, or `insecure`) are probed once: https first, as
    // go-containerregistry does, then http when the server does not speak TLS at all.
    this.mayUseHttp = this.insecure || isLoopbackRegistry(this.registry);
    this.scheme = this.mayUseHttp ? this.tokens.scheme(this.registry) : 'https';
  }

  /** HEAD a manifest by tag or digest; undefined when it does not exist. */
  async headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    const res = await this.call({
      method: 'HEAD',
      path: `${repository}/manifests/${reference}`,
      repository,
      what: `HEAD manifest ${reference}`,
      actions: ['pull'],
      headers: { accept: MANIFEST_ACCEPT },
      accept: [404],
    });
    if (res.status === 404) return undefined;
    const digest = res.headers['docker-content-digest'];
    const size = Number(res.headers['content-length']);
    const mediaType = (res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (digest && Number.isFinite(size)) return { mediaType, size, digest };
    // Some registries omit the digest on HEAD: fall back to GET.
    const m = await this.getManifest(repository, reference);
    return m && { mediaType: m.mediaType, size: m.bytes.length, digest: m.digest };
  }

  /** GET a manifest by tag or digest; undefined when it does not exist. Verifies digest references. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest | undefined> {
    const what = `GET manifest ${reference}`;
    const res = await this.call({
      method: 'GET',
      path: `${repository}/manifests/${reference}`,
      repository,
      what,
      actions: ['pull'],
      headers: { accept: MANIFEST_ACCEPT },
      accept: [404],
    });
    if (res.status === 404) return undefined;
    const digest = sha256Digest(res.body);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw protocolError(this.op(repository, what), `content digest ${digest} does not match the requested digest`);
    }
    let mediaType = (res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (mediaType === '' || mediaType === 'application/json') {
      const parsed = JSON.parse(res.body.toString('utf8')) as { mediaType?: string };
      mediaType = parsed.mediaType ?? mediaType;
    }
    return { bytes: res.body, mediaType, digest };
  }

  /** PUT a manifest under a tag or its digest; returns the digest of the bytes. */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    await this.call({
      method: 'PUT',
      path: `${repository}/manifests/${reference}`,
      repository,
      what: `PUT manifest ${reference}`,
      actions: ['pull', 'push'],
      headers: { 'content-type': mediaType },
      body: bytes,
    });
    return sha256Digest(bytes);
  }

  /** True when the blob exists in the repository. */
  async blobExists(repository: string, digest: string): Promise<boolean> {
    const res = await this.call({
      method: 'HEAD',
      path: `${repository}/blobs/${digest}`,
      repository,
      what: `HEAD blob ${digest}`,
      actions: ['pull'],
      accept: [404],
    });
    return res.status !== 404;
  }

  /** GET a blob, verifying its digest. */
  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const what = `GET blob ${digest}`;
    const res = await this.call({ method: 'GET', path: `${repository}/blobs/${digest}`, repository, what, actions: ['pull'] });
    if (digest.startsWith('sha256:') && sha256Digest(res.body) !== digest) {
      throw protocolError(this.op(repository, what), `content does not match digest`);
    }
    return res.body;
  }

  /**
   * Makes sure a blob exists in the repository: nothing if it is already there, a cross-repository mount when
   * `mountFrom` (a repository on the same registry) has it, else an upload (chunked above chunkSize).
   *
   * `fresh`: the caller expects the blob to be new here (a signature's own payload, envelope or config). Up to
   * `SMALL_BLOB_BYTES` such a blob is uploaded without a HEAD first: the HEAD would nearly always answer 404 and
   * costs the registry as much as half an upload. Uploading content that already exists is allowed by the
   * distribution spec; a registry that refuses it with a 4xx is asked afterwards, and an existing blob counts as
   * success. Other blobs are looked up first: large ones so their bytes are not sent twice, and blobs that many
   * writes share (an empty config) because distribution 2.8 can refuse a manifest while concurrent uploads of a
   * blob it names are being committed.
   */
  async ensureBlob(repository: string, bytes: Buffer, opts: { mountFrom?: string; fresh?: boolean } = {}): Promise<string> {
    const digest = sha256Digest(bytes);
    const blind = opts.fresh === true && bytes.length <= SMALL_BLOB_BYTES;
    if (!blind && (await this.blobExists(repository, digest))) return digest;
    try {
      let location: string | undefined;
      if (opts.mountFrom && opts.mountFrom !== repository) {
        const res = await this.call({
          method: 'POST',
          path: `${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(opts.mountFrom)}`,
          repository,
          what: `mount blob ${digest} from ${opts.mountFrom}`,
          actions: ['pull', 'push'],
          extraScopes: [repositoryScope(opts.mountFrom, ['pull'])],
        });
        if (res.status === 201) return digest;
        // 202: the registry declined the mount and opened an ordinary upload session instead.
        location = res.headers['location'];
      }
      await this.upload(repository, bytes, digest, location);
    } catch (err) {
      if (!blind || !isRefusal(err) || !(await this.blobExists(repository, digest))) throw err;
      this.logger?.debug('registry refused to upload a blob it already has; using the existing blob', { registry: this.registry, repository, digest });
    }
    return digest;
  }

  /** Uploads a blob monolithically or in chunks. */
  async uploadBlob(repository: string, bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    await this.upload(repository, bytes, digest, undefined);
    return digest;
  }

  /**
   * The referrers of a digest (OCI 1.1 referrers API), or undefined when the registry has no referrers API
   * (404 on `/v2/<repo>/referrers/<digest>`; registries with the API answer an empty index).
   */
  async referrers(repository: string, digest: string): Promise<ImageIndex | undefined> {
    const res = await this.call({
      method: 'GET',
      path: `${repository}/referrers/${digest}`,
      repository,
      what: `GET referrers ${digest}`,
      actions: ['pull'],
      headers: { accept: OCI_INDEX },
      accept: [404, 405, 400],
    });
    if (res.status !== 200) return undefined;
    const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (type !== OCI_INDEX) return undefined;
    return JSON.parse(res.body.toString('utf8')) as ImageIndex;
  }

  // A whole upload is retried from a fresh session, since a failed PATCH leaves the session in an unknown state.
  private async upload(repository: string, bytes: Buffer, digest: string, openLocation: string | undefined): Promise<void> {
    let location = openLocation;
    for (let attempt = 1; ; attempt++) {
      try {
        if (!location) {
          const start = await this.call({
            method: 'POST',
            path: `${repository}/blobs/uploads/`,
            repository,
            what: `start upload of blob ${digest}`,
            actions: ['pull', 'push'],
          });
          location = start.headers['location'];
          if (!location) throw protocolError(this.op(repository, 'start upload'), 'no Location header in the upload response');
        }
        if (bytes.length > this.chunkSize) {
          for (let offset = 0; offset < bytes.length; offset += this.chunkSize) {
            const chunk = bytes.subarray(offset, Math.min(bytes.length, offset + this.chunkSize));
            const res = await this.call({
              method: 'PATCH',
              path: location,
              repository,
              what: `upload chunk ${offset}-${offset + chunk.length - 1} of blob ${digest}`,
              actions: ['pull', 'push'],
              headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
              body: chunk,
              retry: false,
            });
            location = res.headers['location'] ?? location;
          }
          await this.call({
            method: 'PUT',
            path: withDigest(location, digest),
            repository,
            what: `complete upload of blob ${digest}`,
            actions: ['pull', 'push'],
            retry: false,
          });
        } else {
          await this.call({
            method: 'PUT',
            path: withDigest(location, digest),
            repository,
            what: `upload blob ${digest}`,
            actions: ['pull', 'push'],
            headers: { 'content-type': 'application/octet-stream' },
            body: bytes,
            retry: false,
          });
        }
        return;
      } catch (err) {
        location = undefined;
        const transient = err instanceof ChainsmithError && err.transient;
        if (!transient || attempt >= this.retry.attempts) throw err;
        await sleep(backoffDelay(attempt, this.retry));
      }
    }
  }

  private op(repository: string, what: string): RegistryOperation {
    return { registry: this.registry, repository, what };
  }

  private async baseUrl(): Promise<string> {
    if (!this.scheme) {
      try {
        await this.transport.send({ method: 'GET', url: `https://${this.host}/v2/` });
        this.scheme = 'https';
      } catch (err) {
        const code = String((err as { code?: unknown }).code ?? '');
        if (TLS_VERIFY_ERRORS.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('CERT_')) {
          // It speaks TLS but the certificate is not trusted: stay on https so the request reports that.
          this.scheme = 'https';
        } else if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(String(err))) {
          this.scheme = 'http';
        } else {
          // Unreachable right now: decide nothing; plain http for this attempt, and let the request fail.
          return `http://${this.host}/v2/`;
        }
      }
      this.tokens.setScheme(this.registry, this.scheme);
    }
    return `${this.scheme}://${this.host}/v2/`;
  }

  private async call(c: Call): Promise<HttpResponse> {
    const op = this.op(c.repository, c.what);
    const base = await this.baseUrl();
    const url = /^https?:\/\//.test(c.path) ? c.path : c.path.startsWith('/') ? new URL(c.path, base).toString() : base + c.path;
    const scopes = [repositoryScope(c.repository, c.actions), ...(c.extraScopes ?? [])];
    const attempts = c.retry === false ? 1 : Math.max(1, this.retry.attempts);
    const sameHost = new URL(url).host === new URL(base).host;
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { ...(c.headers ?? {}) };
      // Credentials go only to the registry itself, never to another host named in a Location header.
      const authorization = sameHost ? await this.authorization(scopes, op, false) : undefined;
      if (authorization) headers['authorization'] = authorization;
      const req: HttpRequest = { method: c.method, url, headers };
      if (c.body !== undefined) req.body = c.body;
      let res: HttpResponse;
      try {
        res = await this.transport.send(req);
      } catch (err) {
        if (attempt < attempts) {
          this.logger?.debug('registry request failed, retrying', { registry: this.registry, repository: c.repository, what: c.what, attempt, error: String(err) });
          await sleep(backoffDelay(attempt, this.retry));
          continue;
        }
        throw networkError(op, err, attempt);
      }
      if (res.status === 401 && !authRetried && sameHost) {
        // Learn (or re-learn) the challenge, drop a rejected token, and try once more with fresh auth.
        authRetried = true;
        const challenges = parseWwwAuthenticate(res.headers['www-authenticate'] ?? '');
        const chosen = challenges.find((ch) => ch.scheme === 'bearer') ?? challenges.find((ch) => ch.scheme === 'basic');
        if (chosen) {
          this.challenge = chosen;
          this.tokens.setChallenge(this.registry, chosen);
          if (authorization) this.tokens.delete(this.tokenKey(scopes));
          const retried = await this.authorization(scopes, op, true);
          // Sending the very same credentials again cannot help.
          if (retried && retried !== authorization) {
            attempt--;
            continue;
          }
        }
      }
      if (res.status < 400 || c.accept?.includes(res.status)) return res;
      if (isRetryableStatus(res.status) && attempt < attempts) {
        this.logger?.debug('registry answered a transient status, retrying', { registry: this.registry, repository: c.repository, what: c.what, status: res.status, attempt });
        await sleep(backoffDelay(attempt, this.retry, res.headers['retry-after']));
        continue;
      }
      throw statusError(op, res, attempt);
    }
  }

  private tokenKey(scopes: string[]): string {
    const ch = this.challenge;
    return [ch?.params.realm ?? '', ch?.params.service ?? '', [...scopes].sort().join(' '), credentialIdentity(this.credential)].join('|');
  }

  // The Authorization header for the known challenge, fetching a bearer token when needed.
  private async authorization(scopes: string[], op: RegistryOperation, afterChallenge: boolean): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const cred = this.credential;
    if (ch.scheme === 'basic') {
      if (cred?.kind === 'basic') return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
      return undefined;
    }
    if (ch.scheme !== 'bearer') return undefined;
    if (cred?.kind === 'bearer') return `Bearer ${cred.token}`;
    const key = this.tokenKey(scopes);
    const cached = this.tokens.get(key);
    if (cached) return `Bearer ${cached}`;
    if (!afterChallenge && !ch.params.realm) return undefined;
    return `Bearer ${await this.tokens.obtain(key, () => this.fetchToken(ch, scopes, cred, op))}`;
  }

  private async fetchToken(
    ch: AuthChallenge,
    scopes: string[],
    cred: RegistryCredential | undefined,
    op: RegistryOperation,
  ): Promise<{ token: string; expiresIn: number }> {
    const realm = ch.params.realm;
    const tokenOp: RegistryOperation = { ...op, what: `${op.what}: token request to ${realm ?? '(no realm)'}` };
    if (!realm) throw protocolError(op, 'Bearer challenge without realm');
    let req: HttpRequest;
    if (cred?.kind === 'refresh-token') {
      // OAuth2 refresh-token grant, as docker login's identity tokens require.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.refreshToken, client_id: 'chainsmith', scope: scopes.join(' ') });
      if (ch.params.service) form.set('service', ch.params.service);
      req = { method: 'POST', url: realm, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()) };
    } else {
      const u = new URL(realm);
      if (ch.params.service) u.searchParams.set('service', ch.params.service);
      for (const s of scopes) u.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (cred?.kind === 'basic') headers['authorization'] = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
      req = { method: 'GET', url: u.toString(), headers };
    }
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.transport.send(req);
      } catch (err) {
        if (attempt < this.retry.attempts) {
          await sleep(backoffDelay(attempt, this.retry));
          continue;
        }
        throw networkError(tokenOp, err, attempt);
      }
      if (res.status === 200) {
        const body = JSON.parse(res.body.toString('utf8')) as { token?: string; access_token?: string; expires_in?: number };
        const token = body.token ?? body.access_token;
        if (!token) throw protocolError(tokenOp, 'token response has no token');
        return { token, expiresIn: typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60 };
      }
      if (isRetryableStatus(res.status) && attempt < this.retry.attempts) {
        await sleep(backoffDelay(attempt, this.retry, res.headers['retry-after']));
        continue;
      }
      throw statusError(tokenOp, res, attempt);
    }
  }
}

/** Fresh blobs up to this size are uploaded without a HEAD first (see ensureBlob). */
export const SMALL_BLOB_BYTES = 1024 * 1024;

// A 4xx other than authentication: the registry understood the upload and said no (e.g. "already exists").
function isRefusal(err: unknown): boolean {
  return err instanceof ChainsmithError && (err.reason === 'RegistryError' || err.reason === 'RegistryNotFound');
}

const TLS_VERIFY_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'HOSTNAME_MISMATCH',
]);

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}
