// A small OCI distribution client for one registry: manifests, blobs (monolithic, chunked, cross-repository
// mount), referrers; Basic and Bearer auth from Docker config JSON; retries on 429/5xx/network errors.
import type { Logger } from 'winston';
import { ChainsmithError, messageOf } from '../errors.js';
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
import { createHash } from 'node:crypto';
import { networkError, protocolError, statusError, type RegistryOperation } from './errors.js';
import { isGrammarDigest, isRepositoryPath, registryProblem } from '../reference/grammar.js';
import {
  Deadline,
  MAX_BLOB_BYTES,
  MAX_ERROR_BODY_BYTES,
  MAX_MANIFEST_BYTES,
  MAX_TOKEN_RESPONSE_BYTES,
  REQUEST_TOTAL_TIMEOUT_MS,
} from './limits.js';
import { isIndex, isMediaType, parseManifest, sha256Digest, type Descriptor, type ImageIndex } from './manifest.js';
import { MANIFEST_ACCEPT, OCI_INDEX } from './media-types.js';
import { normaliseRegistry } from '../reference/reference.js';
import { apiHost, isLoopbackRegistry } from './hosts.js';
import { backoffDelay, DEFAULT_RETRY, isRetryableStatus, sleep, type RetryPolicy } from './retry.js';
import {
  HttpTransport,
  ResponseTooLargeError,
  type HttpRequest,
  type HttpResponse,
  type TlsOptions,
} from './transport.js';
import { assertRegistryUrl, registryUrl, uploadLocation, type RequestTarget } from './urls.js';
import type { ResolvedCredential } from './keychain.js';

/** How to reach and authenticate to one registry. */
export interface RegistryClientOptions {
  /** registry host[:port], e.g. `127.0.0.1:5000`, `ghcr.io`, `index.docker.io` */
  registry: string;
  /** Docker configs in priority order (first match wins); ignored when `credential` is given */
  dockerConfigs?: DockerConfigJson[];
  /** the credential a keychain resolved for this registry (keychain.ts), named by its source in refusals */
  credential?: ResolvedCredential;
  /** allow plain http and skip TLS verification (`storage.oci.repository.insecure: true`) */
  insecure?: boolean;
  /** extra CA certificates (PEM) trusted in addition to Node's roots */
  caBundle?: string;
  /** total deadline of one request (default REQUEST_TOTAL_TIMEOUT_MS) */
  timeoutMs?: number;
  /** idle deadline of one request (default REQUEST_IDLE_TIMEOUT_MS) */
  idleTimeoutMs?: number;
  /** the deadline of the whole operation this client works for (a store, a verify); none: only per-request deadlines */
  deadline?: Deadline;
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
  /** what the request is for; the URL is built from it and checked to stay under `/v2/<repository>/` */
  target: RequestTarget;
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
  /** cap on a successful response body (default: error-body size, for requests whose body is not read) */
  maxBodyBytes?: number;
}

/** A client for one registry. Cheap to build; share a TokenCache between instances. */
export class RegistryClient {
  readonly registry: string;
  private readonly host: string;
  private readonly credential: RegistryCredential | undefined;
  private readonly credentialSource: string;
  private readonly transport: HttpTransport;
  private readonly retry: RetryPolicy;
  private readonly tokens: TokenCache;
  private readonly insecure: boolean;
  private readonly chunkSize: number;
  private readonly logger: Logger | undefined;
  private scheme: 'http' | 'https' | undefined;
  private readonly mayUseHttp: boolean;
  private readonly deadline: Deadline | undefined;
  private challenge: AuthChallenge | undefined;

  constructor(opts: RegistryClientOptions) {
    // The host goes into every URL: it must be a domain of the reference grammar.
    const hostProblem = registryProblem(opts.registry);
    if (hostProblem) throw new ChainsmithError('InvalidReference', hostProblem);
    this.registry = normaliseRegistry(opts.registry);
    this.host = apiHost(this.registry);
    this.credential = opts.credential?.credential ?? credentialFor(opts.dockerConfigs ?? [], this.registry);
    this.credentialSource = opts.credential?.source ?? (this.credential ? 'docker config' : 'none (anonymous)');
    this.insecure = opts.insecure ?? false;
    const tls: TlsOptions = { verify: !this.insecure };
    if (opts.caBundle !== undefined) tls.caBundle = opts.caBundle;
    this.transport = new HttpTransport({
      tls,
      timeoutMs: opts.timeoutMs ?? REQUEST_TOTAL_TIMEOUT_MS,
      ...(opts.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: opts.idleTimeoutMs }),
    });
    this.deadline = opts.deadline;
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

  /** HEAD a manifest by tag or digest; undefined when it does not exist. The answer's headers are validated. */
  async headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    const { what, res } = await this.manifestRequest('HEAD', repository, reference);
    if (res.status === 404) return undefined;
    const digest = res.headers['docker-content-digest'];
    const length = res.headers['content-length'];
    const mediaType = mediaTypeOf(res.headers['content-type']);
    if (digest !== undefined && length !== undefined && /^[0-9]{1,9}$/.test(length) && mediaType !== undefined) {
      const size = Number(length);
      const op = this.op(repository, what);
      if (!isGrammarDigest(digest)) throw protocolError(op, 'the Docker-Content-Digest header is not a digest');
      if (isGrammarDigest(reference) && digest !== reference) {
        throw protocolError(op, 'the Docker-Content-Digest header names another digest than the one asked for');
      }
      if (size > MAX_MANIFEST_BYTES) throw protocolError(op, `manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
      return { mediaType, size, digest };
    }
    // Some registries omit the digest on HEAD: fall back to GET, which computes it from the bytes.
    const m = await this.getManifest(repository, reference);
    return m && { mediaType: m.mediaType, size: m.bytes.length, digest: m.digest };
  }

  /** GET a manifest (at most MAX_MANIFEST_BYTES) by tag or digest; undefined when absent. Checks digest references. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest | undefined> {
    const { what, res } = await this.manifestRequest('GET', repository, reference);
    if (res.status === 404) return undefined;
    const digest = sha256Digest(res.body);
    if (isGrammarDigest(reference) && !contentMatches(res.body, reference)) {
      throw protocolError(this.op(repository, what), `content digest ${digest} does not match the requested digest`);
    }
    let mediaType = mediaTypeOf(res.headers['content-type']) ?? '';
    if (mediaType === '' || mediaType === 'application/json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.body.toString('utf8'));
      } catch {
        throw protocolError(this.op(repository, what), 'the manifest is not valid JSON');
      }
      const declared = (parsed as { mediaType?: unknown } | null)?.mediaType;
      if (isMediaType(declared)) mediaType = declared;
    }
    return { bytes: res.body, mediaType, digest };
  }

  // HEAD or GET of a manifest by tag or digest, asking for every manifest type; a 404 is returned, not thrown.
  private async manifestRequest(
    method: 'HEAD' | 'GET',
    repository: string,
    reference: string,
  ): Promise<{ what: string; res: HttpResponse }> {
    const what = `${method} manifest ${reference}`;
    const res = await this.call({
      method,
      target: { kind: 'manifest', reference },
      repository,
      what,
      actions: ['pull'],
      headers: { accept: MANIFEST_ACCEPT },
      accept: [404],
      // a HEAD answer has no body; a GET's is the manifest
      ...(method === 'GET' ? { maxBodyBytes: MAX_MANIFEST_BYTES } : {}),
    });
    return { what, res };
  }

  /** PUT a manifest under a tag or its digest; returns the digest of the bytes. */
  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    await this.call({
      method: 'PUT',
      target: { kind: 'manifest', reference },
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
      target: { kind: 'blob', digest },
      repository,
      what: `HEAD blob ${digest}`,
      actions: ['pull'],
      accept: [404],
    });
    return res.status !== 404;
  }

  /** GET a blob of at most `maxBytes` (default MAX_BLOB_BYTES), verifying its digest (sha256 or sha512). */
  async getBlob(repository: string, digest: string, maxBytes = MAX_BLOB_BYTES): Promise<Buffer> {
    const what = `GET blob ${digest}`;
    if (!/^sha(256|512):/.test(digest)) {
      throw protocolError(this.op(repository, what), 'only sha256 and sha512 blobs can be verified');
    }
    const target: RequestTarget = { kind: 'blob', digest };
    const res = await this.call({ method: 'GET', target, repository, what, actions: ['pull'], maxBodyBytes: maxBytes });
    if (!contentMatches(res.body, digest)) {
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
  async ensureBlob(
    repository: string,
    bytes: Buffer,
    opts: { mountFrom?: string; fresh?: boolean } = {},
  ): Promise<string> {
    const digest = sha256Digest(bytes);
    const blind = opts.fresh === true && bytes.length <= SMALL_BLOB_BYTES;
    if (!blind && (await this.blobExists(repository, digest))) return digest;
    try {
      let location: string | undefined;
      // A mount source that is not a repository path of the grammar is never put in a URL or a scope.
      if (opts.mountFrom && opts.mountFrom !== repository && isRepositoryPath(opts.mountFrom)) {
        const res = await this.call({
          method: 'POST',
          target: { kind: 'start-upload', query: { mount: digest, from: opts.mountFrom } },
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
      this.logger?.debug('registry refused to upload a blob it already has; using the existing blob', {
        registry: this.registry,
        repository,
        digest,
      });
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
    const what = `GET referrers ${digest}`;
    const res = await this.call({
      method: 'GET',
      target: { kind: 'referrers', digest },
      repository,
      what,
      actions: ['pull'],
      headers: { accept: OCI_INDEX },
      accept: [404, 405, 400],
      maxBodyBytes: MAX_MANIFEST_BYTES,
    });
    if (res.status !== 200) return undefined;
    if (mediaTypeOf(res.headers['content-type']) !== OCI_INDEX) return undefined;
    const index = parseManifest(res.body, where(this.op(repository, what)));
    if (!isIndex(index)) throw protocolError(this.op(repository, what), 'the referrers answer is not an image index');
    return index;
  }

  // A whole upload is retried from a fresh session, since a failed PATCH leaves the session in an unknown state.
  // Every Location the registry names is checked (same origin, under /v2/<repository>/blobs/uploads/) before use.
  private async upload(
    repository: string,
    bytes: Buffer,
    digest: string,
    openLocation: string | undefined,
  ): Promise<void> {
    let location = openLocation;
    for (let attempt = 1; ; attempt++) {
      try {
        if (!location) {
          const start = await this.call({
            method: 'POST',
            target: { kind: 'start-upload' },
            repository,
            what: `start upload of blob ${digest}`,
            actions: ['pull', 'push'],
          });
          location = start.headers['location'];
          if (!location)
            throw protocolError(this.op(repository, 'start upload'), 'no Location header in the upload response');
        }
        let session = await this.session(repository, location);
        if (bytes.length > this.chunkSize) {
          for (let offset = 0; offset < bytes.length; offset += this.chunkSize) {
            const chunk = bytes.subarray(offset, Math.min(bytes.length, offset + this.chunkSize));
            const res = await this.call({
              method: 'PATCH',
              target: { kind: 'upload-session', url: session },
              repository,
              what: `upload chunk ${offset}-${offset + chunk.length - 1} of blob ${digest}`,
              actions: ['pull', 'push'],
              headers: {
                'content-type': 'application/octet-stream',
                'content-range': `${offset}-${offset + chunk.length - 1}`,
              },
              body: chunk,
              retry: false,
            });
            const next = res.headers['location'];
            if (next !== undefined) session = await this.session(repository, next);
          }
          await this.call({
            method: 'PUT',
            target: { kind: 'upload-session', url: session, query: { digest } },
            repository,
            what: `complete upload of blob ${digest}`,
            actions: ['pull', 'push'],
            retry: false,
          });
        } else {
          await this.call({
            method: 'PUT',
            target: { kind: 'upload-session', url: session, query: { digest } },
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
        await this.pause(attempt, undefined, this.op(repository, `upload blob ${digest}`));
      }
    }
  }

  private async session(repository: string, location: string): Promise<URL> {
    try {
      return uploadLocation(await this.baseUrl(), repository, location);
    } catch (err) {
      throw protocolError(this.op(repository, 'upload'), err instanceof Error ? err.message : String(err));
    }
  }

  // Waits before a retry, unless that would pass the operation deadline.
  private async pause(attempt: number, retryAfter: string | undefined, op: RegistryOperation): Promise<void> {
    const delay = backoffDelay(attempt, this.retry, retryAfter);
    if (this.deadline && this.deadline.remaining() <= delay) {
      const budget = Math.round(this.deadline.budgetMs / 1000);
      const detail = `no time left for another attempt within the operation deadline of ${budget} s`;
      throw new ChainsmithError('RegistryUnavailable', `${where(op)}: ${detail}`, { transient: true });
    }
    await sleep(delay);
  }

  private op(repository: string, what: string): RegistryOperation {
    return { registry: this.registry, repository, what, credentialSource: this.credentialSource };
  }

  // `scheme://host/` of the registry API.
  private async baseUrl(): Promise<URL> {
    if (!this.scheme) {
      try {
        const probe: HttpRequest = {
          method: 'GET',
          url: `https://${this.host}/v2/`,
          maxBodyBytes: MAX_ERROR_BODY_BYTES,
        };
        if (this.deadline) probe.timeoutMs = this.deadline.remaining();
        await this.transport.send(probe);
        this.scheme = 'https';
      } catch (err) {
        const code = String((err as { code?: unknown }).code ?? '');
        if (err instanceof ResponseTooLargeError) {
          this.scheme = 'https';
        } else if (TLS_VERIFY_ERRORS.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('CERT_')) {
          // It speaks TLS but the certificate is not trusted: stay on https so the request reports that.
          this.scheme = 'https';
        } else if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(String(err))) {
          this.scheme = 'http';
        } else {
          // Unreachable right now: decide nothing; plain http for this attempt, and let the request fail.
          return new URL(`http://${this.host}/`);
        }
      }
      this.tokens.setScheme(this.registry, this.scheme);
    }
    return new URL(`${this.scheme}://${this.host}/`);
  }

  private async call(c: Call): Promise<HttpResponse> {
    const op = this.op(c.repository, c.what);
    this.deadline?.check(where(op));
    const base = await this.baseUrl();
    let url: URL;
    try {
      url = registryUrl(base, c.repository, c.target);
    } catch (err) {
      throw protocolError(op, messageOf(err));
    }
    const scopes = [repositoryScope(c.repository, c.actions), ...(c.extraScopes ?? [])];
    const attempts = c.retry === false ? 1 : Math.max(1, this.retry.attempts);
    // A redirect keeps the credentials only while it stays on this origin under /v2/<repository>/.
    const keepAuthorization = (next: URL): boolean => staysUnder(next, base, c.repository);
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      this.deadline?.check(where(op));
      const headers: Record<string, string> = { ...(c.headers ?? {}) };
      // Credentials go only to URLs that passed the /v2/<repository>/ check above (registryUrl).
      const authorization = await this.authorization(scopes, op, false);
      if (authorization) headers['authorization'] = authorization;
      const req: HttpRequest = {
        method: c.method,
        url: url.toString(),
        headers,
        maxBodyBytes: c.maxBodyBytes ?? MAX_ERROR_BODY_BYTES,
        keepAuthorization,
      };
      if (c.body !== undefined) req.body = c.body;
      const res = await this.sendAttempt(req, op, attempt, attempts, (err) =>
        this.logger?.debug('registry request failed, retrying', {
          registry: this.registry,
          repository: c.repository,
          what: c.what,
          attempt,
          error: String(err),
        }),
      );
      if (res === undefined) continue;
      // Redirects of GET/HEAD were followed by the transport; any other is not part of the protocol.
      if (res.status >= 300 && res.status < 400) {
        throw protocolError(op, `unexpected redirect (HTTP ${res.status}); not followed`);
      }
      if (res.status === 401 && !authRetried) {
        // Learn (or re-learn) the challenge, drop a rejected token, and try once more with fresh auth.
        authRetried = true;
        const challenges = parseWwwAuthenticate(res.headers['www-authenticate'] ?? '');
        const chosen =
          challenges.find((ch) => ch.scheme === 'bearer') ?? challenges.find((ch) => ch.scheme === 'basic');
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
        this.logger?.debug('registry answered a transient status, retrying', {
          registry: this.registry,
          repository: c.repository,
          what: c.what,
          status: res.status,
          attempt,
        });
        await this.pause(attempt, res.headers['retry-after'], op);
        continue;
      }
      throw statusError(op, res, attempt);
    }
  }

  // One attempt of a request under the operation deadline. A network failure before the last attempt is reported
  // to `retrying`, paused for, and answered with undefined (try again); on the last attempt it is thrown.
  private async sendAttempt(
    req: HttpRequest,
    op: RegistryOperation,
    attempt: number,
    attempts: number,
    retrying?: (err: unknown) => void,
  ): Promise<HttpResponse | undefined> {
    if (this.deadline) req.timeoutMs = this.deadline.remaining();
    try {
      return await this.transport.send(req);
    } catch (err) {
      if (err instanceof ResponseTooLargeError) throw protocolError(op, err.message);
      if (attempt >= attempts) throw networkError(op, err, attempt);
      retrying?.(err);
      await this.pause(attempt, undefined, op);
      return undefined;
    }
  }

  private tokenKey(scopes: string[]): string {
    const ch = this.challenge;
    return [
      ch?.params.realm ?? '',
      ch?.params.service ?? '',
      [...scopes].sort().join(' '),
      credentialIdentity(this.credential),
    ].join('|');
  }

  // The Authorization header for the known challenge, fetching a bearer token when needed.
  private async authorization(
    scopes: string[],
    op: RegistryOperation,
    afterChallenge: boolean,
  ): Promise<string | undefined> {
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

  // The token realm a registry names receives the credentials for the token exchange, so it must be a plain
  // https URL (http only when the registry itself is spoken to over http: loopback or `insecure`).
  private async realmUrl(realm: string, op: RegistryOperation): Promise<URL> {
    let u: URL;
    try {
      u = new URL(realm);
    } catch {
      throw protocolError(op, 'the token realm is not a URL');
    }
    const base = await this.baseUrl();
    const schemeOk = u.protocol === 'https:' || (u.protocol === 'http:' && base.protocol === 'http:');
    if (realm.length > 2048 || !schemeOk || u.username !== '' || u.password !== '' || u.hash !== '') {
      throw protocolError(op, 'the token realm must be an https URL without credentials or fragment; no token asked');
    }
    return u;
  }

  private async fetchToken(
    ch: AuthChallenge,
    scopes: string[],
    cred: RegistryCredential | undefined,
    op: RegistryOperation,
  ): Promise<{ token: string; expiresIn: number }> {
    const realm = ch.params.realm;
    if (!realm) throw protocolError(op, 'Bearer challenge without realm');
    const u = await this.realmUrl(realm, op);
    const tokenOp: RegistryOperation = { ...op, what: `${op.what}: token request to ${u.origin}${u.pathname}` };
    let req: HttpRequest;
    if (cred?.kind === 'refresh-token') {
      // OAuth2 refresh-token grant, as docker login's identity tokens require.
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: cred.refreshToken,
        client_id: 'chainsmith',
        scope: scopes.join(' '),
      });
      if (ch.params.service) form.set('service', ch.params.service);
      const headers = { 'content-type': 'application/x-www-form-urlencoded' };
      req = { method: 'POST', url: u.toString(), headers, body: Buffer.from(form.toString()) };
    } else {
      if (ch.params.service) u.searchParams.set('service', ch.params.service);
      for (const s of scopes) u.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (cred?.kind === 'basic')
        headers['authorization'] = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
      req = { method: 'GET', url: u.toString(), headers };
    }
    req.maxBodyBytes = MAX_TOKEN_RESPONSE_BYTES;
    for (let attempt = 1; ; attempt++) {
      this.deadline?.check(where(tokenOp));
      const res = await this.sendAttempt(req, tokenOp, attempt, this.retry.attempts);
      if (res === undefined) continue;
      if (res.status === 200) return tokenOf(res.body, tokenOp);
      if (isRetryableStatus(res.status) && attempt < this.retry.attempts) {
        await this.pause(attempt, res.headers['retry-after'], tokenOp);
        continue;
      }
      throw statusError(tokenOp, res, attempt);
    }
  }
}

/** Longest bearer token accepted from a token endpoint. */
export const MAX_TOKEN_CHARS = 16 * 1024;

// A token answer: `token` or `access_token`, printable ASCII (it goes into a header); lifetime clamped to a day.
function tokenOf(body: Buffer, op: RegistryOperation): { token: string; expiresIn: number } {
  let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    throw protocolError(op, 'token response is not JSON');
  }
  const token = typeof parsed?.token === 'string' && parsed.token !== '' ? parsed.token : parsed?.access_token;
  if (typeof token !== 'string' || token === '') throw protocolError(op, 'token response has no token');
  if (token.length > MAX_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(token)) {
    throw protocolError(op, 'token response holds a malformed token');
  }
  const e = parsed.expires_in;
  return { token, expiresIn: typeof e === 'number' && e > 0 ? Math.min(e, 86_400) : 60 };
}

function where(op: RegistryOperation): string {
  return `registry ${op.registry}, repository ${op.repository || '(none)'}: ${op.what}`;
}

// True when `next` is on the registry's origin under /v2/<repository>/ with nothing that could leave it.
function staysUnder(next: URL, base: URL, repository: string): boolean {
  try {
    assertRegistryUrl(next, base, repository, true);
    return true;
  } catch {
    return false;
  }
}

/** The `type/subtype` of a Content-Type header, or undefined when absent or malformed. */
function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return '';
  const t = contentType.split(';')[0]!.trim();
  if (t === '') return '';
  return isMediaType(t) ? t : undefined;
}

// The bytes hash to `digest` (sha256 or sha512); other algorithms cannot be checked and never match.
function contentMatches(bytes: Buffer, digest: string): boolean {
  const m = /^(sha256|sha512):([0-9a-f]+)$/.exec(digest);
  return m !== null && createHash(m[1]!).update(bytes).digest('hex') === m[2];
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
