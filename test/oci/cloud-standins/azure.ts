// A loopback stand-in for Microsoft Entra ID and the Azure Container Registry token service, because neither Entra nor
// ACR can be reached or run here. Entra: served over TLS (MSAL accepts only https authorities) to @azure/identity's
// DefaultAzureCredential / WorkloadIdentityCredential on the AKS workload-identity path (AZURE_CLIENT_ID,
// AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE): instance discovery, the tenant's OpenID configuration and the v2.0
// token endpoint's client-credentials grant with the federated token as `client_assertion`. Its public name stays
// `https://login.microsoftonline.com` (MSAL's built-in metadata knows it, so no instance discovery is needed): a child
// process reaches it through e2e/lib/host-aliases.mjs with `hostAlias` (login.microsoftonline.com:443 → this port) and
// trusts it through NODE_EXTRA_CA_CERTS. ACR: the token service a registry serves on its own host (`/oauth2/exchange`:
// Entra access token → ACR refresh token; `/oauth2/token`: refresh-token grant, POST or GET with Basic
// 00000000-0000-0000-0000-000000000000:<refresh token> → access token), as a handler that e2e/lib/acr-front.ts mounts.
// Its access tokens are ES256 JWTs with an `x5c` header, which docker-registry's `auth: token` (distribution 2.8)
// verifies against its `rootcertbundle`: the certificate in x5c[0] must chain to a bundle certificate, `iss` must be
// the configured issuer, `aud` (a string) the configured service, exp/nbf within 60 s of leeway.
import { randomBytes, randomUUID, sign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedRequest, Reply } from '../../signing/kms/loopback-server.js';
import type { SigningCert } from './pki.js';

export const ENTRA_HOST = 'login.microsoftonline.com';
export const ACR_SCOPE = 'https://containerregistry.azure.net/.default';
export const ACR_NULL_USER = '00000000-0000-0000-0000-000000000000';

// ---- JWTs ------------------------------------------------------------------------------------------------------

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** An ES256 JWT (signature r||s, as JOSE and distribution's libtrust want it). */
export function es256Jwt(key: KeyObject, header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const input = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', ...header }))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

/** The claims of a JWT, not verified (tests read what the stand-ins issued). */
export function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (part === undefined) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

// ---- a small https server --------------------------------------------------------------------------------------

interface TlsServer {
  port: number;
  close(): Promise<void>;
}

async function startTlsServer(
  tls: { cert: string; key: string },
  handler: (req: RecordedRequest) => Reply,
): Promise<TlsServer> {
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let reply: Reply;
      try {
        reply = handler({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      } catch (err) {
        reply = { status: 500, body: { error: 'server_error', error_description: String(err) } };
      }
      writeReply(res, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a stand-in's reply (JSON unless the body is a string). */
export function writeReply(res: import('node:http').ServerResponse, reply: Reply): void {
  const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
  res.end(text);
}

function form(req: RecordedRequest): URLSearchParams {
  return new URLSearchParams(req.body);
}

// ---- Entra -----------------------------------------------------------------------------------------------------

export interface EntraStandInOptions {
  /** TLS certificate (PEM) valid for login.microsoftonline.com, and its key */
  tls: { cert: string; key: string };
  tenantId?: string;
  clientId?: string;
  /** `expires_in` of access tokens, seconds (default 3599) */
  expiresInSeconds?: number;
}

export interface EntraStandIn {
  tenantId: string;
  clientId: string;
  /** the loopback port the TLS server listens on */
  port: number;
  /** for CHAINSMITH_TEST_HOST_ALIASES: `login.microsoftonline.com:443=127.0.0.1:<port>` */
  hostAlias: string;
  /** the workload-identity variables (the federated token file is written by the stand-in) */
  env: Record<'AZURE_AUTHORITY_HOST' | 'AZURE_TENANT_ID' | 'AZURE_CLIENT_ID' | 'AZURE_FEDERATED_TOKEN_FILE', string>;
  /** variables that would make DefaultAzureCredential use another credential (service principal secrets, MSI) */
  unsetEnv: readonly string[];
  /** whether `token` is an access token this stand-in issued, unexpired and not revoked */
  isValidAccessToken(token: string): boolean;
  /** every access token issued so far is refused by `isValidAccessToken` (the ACR exchange then answers 401) */
  revokeAccessTokens(): void;
  /** access tokens issued from now on (until called with false) are refused by `isValidAccessToken` */
  setIssueUnknownTokens(on: boolean): void;
  setExpiresIn(seconds: number): void;
  /** answer the token endpoint with this AADSTS error until called with undefined */
  setTokenFailure(failure: { status: number; error: string; description: string } | undefined): void;
  /** client-credentials grants answered with a token */
  tokenCalls(): number;
  /** OpenID configuration documents and instance discovery answers served */
  metadataCalls(): number;
  /** requests refused (wrong tenant, client id or assertion; unknown path) */
  refused(): number;
  close(): Promise<void>;
}

export const AZURE_UNSET_ENV = [
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_CLIENT_CERTIFICATE_PASSWORD',
  'AZURE_CLIENT_SEND_CERTIFICATE_CHAIN',
  'AZURE_USERNAME',
  'AZURE_PASSWORD',
  'AZURE_TOKEN_CREDENTIALS',
  'AZURE_REGIONAL_AUTHORITY_NAME',
  'AZURE_POD_IDENTITY_AUTHORITY_HOST',
  'IDENTITY_ENDPOINT',
  'IDENTITY_HEADER',
  'IDENTITY_SERVER_THUMBPRINT',
  'IMDS_ENDPOINT',
  'MSI_ENDPOINT',
  'MSI_SECRET',
] as const;

/** Starts the Entra stand-in on a free loopback port; writes the federated token file into a temp dir. */
export async function startEntraStandIn(opts: EntraStandInOptions): Promise<EntraStandIn> {
  const tenantId = opts.tenantId ?? '72f988bf-0000-4000-8000-00000000c0de';
  const clientId = opts.clientId ?? '0c0ffee0-0000-4000-8000-00000000c5c5';
  const base = `https://${ENTRA_HOST}`;
  let expiresIn = opts.expiresInSeconds ?? 3599;
  let failure: { status: number; error: string; description: string } | undefined;
  let issueUnknown = false;
  let tokenCalls = 0;
  let metadataCalls = 0;
  let refused = 0;
  const issued = new Map<string, number>(); // token → expiry (ms)
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-entra-'));
  const federatedTokenFile = join(dir, 'azure-identity-token');
  // what the AKS webhook projects: a ServiceAccount token for audience api://AzureADTokenExchange
  const federatedToken = es256Jwt(
    signingKey,
    {},
    {
      iss: 'https://oidc.prod-aks.azure.com/chainsmith-test/',
      sub: 'system:serviceaccount:tekton-chains:tekton-chains-controller',
      aud: ['api://AzureADTokenExchange'],
      exp: nowSeconds() + 86400,
      iat: nowSeconds(),
    },
  );
  await writeFile(federatedTokenFile, federatedToken, { mode: 0o600 });

  const aadError = (status: number, error: string, description: string): Reply => {
    refused++;
    return {
      status,
      body: { error, error_description: description, error_codes: [], timestamp: new Date().toISOString() },
    };
  };

  const handle = (req: RecordedRequest): Reply => {
    const url = new URL(req.url, base);
    const path = url.pathname;
    if (req.method === 'GET' && path === '/common/discovery/instance') {
      metadataCalls++;
      return {
        status: 200,
        body: {
          tenant_discovery_endpoint: `${base}/${tenantId}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [
            {
              preferred_network: ENTRA_HOST,
              preferred_cache: 'login.windows.net',
              aliases: [ENTRA_HOST, 'login.windows.net'],
            },
          ],
        },
      };
    }
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(path);
    if (!m) return aadError(404, 'invalid_request', `AADSTS90002: the stand-in does not serve ${req.method} ${path}`);
    if (m[1] !== tenantId && m[1] !== 'organizations' && m[1] !== 'common')
      return aadError(400, 'invalid_request', `AADSTS90002: Tenant '${m[1]}' not found.`);
    if (m[2]!.startsWith('v2.0')) {
      metadataCalls++;
      const t = m[1];
      return {
        status: 200,
        body: {
          token_endpoint: `${base}/${t}/oauth2/v2.0/token`,
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
          jwks_uri: `${base}/${t}/discovery/v2.0/keys`,
          response_modes_supported: ['query', 'fragment', 'form_post'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          issuer: `${base}/${tenantId}/v2.0`,
          request_uri_parameter_supported: false,
          userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
          authorization_endpoint: `${base}/${t}/oauth2/v2.0/authorize`,
          device_authorization_endpoint: `${base}/${t}/oauth2/v2.0/devicecode`,
          http_logout_supported: true,
          frontchannel_logout_supported: true,
          end_session_endpoint: `${base}/${t}/oauth2/v2.0/logout`,
          claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid'],
          kerberos_endpoint: `${base}/${t}/kerberos`,
          tenant_region_scope: 'EU',
          cloud_instance_name: 'microsoftonline.com',
          cloud_graph_host_name: 'graph.windows.net',
          msgraph_host: 'graph.microsoft.com',
          rbac_url: 'https://pas.windows.net',
        },
      };
    }
    if (req.method !== 'POST') return aadError(405, 'invalid_request', 'AADSTS900561: POST required');
    const f = form(req);
    if (failure) return aadError(failure.status, failure.error, failure.description);
    if (f.get('grant_type') !== 'client_credentials')
      return aadError(400, 'unsupported_grant_type', `AADSTS70003: grant ${f.get('grant_type')} is not served`);
    if (f.get('client_id') !== clientId)
      return aadError(400, 'unauthorized_client', `AADSTS700016: Application '${f.get('client_id')}' not found`);
    if (
      f.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' ||
      f.get('client_assertion') !== federatedToken
    )
      return aadError(401, 'invalid_client', 'AADSTS700213: No matching federated identity record found');
    const scopes = (f.get('scope') ?? '').split(' ');
    if (!scopes.includes(ACR_SCOPE))
      return aadError(400, 'invalid_scope', `AADSTS70011: the stand-in issues only ${ACR_SCOPE}`);
    tokenCalls++;
    const exp = nowSeconds() + expiresIn;
    const token = es256Jwt(
      signingKey,
      { kid: 'chainsmith-entra-standin' },
      {
        aud: 'https://containerregistry.azure.net',
        iss: `https://sts.windows.net/${tenantId}/`,
        iat: nowSeconds(),
        nbf: nowSeconds(),
        exp,
        appid: clientId,
        oid: randomUUID(),
        sub: clientId,
        tid: tenantId,
        uti: randomBytes(16).toString('base64url'),
      },
    );
    if (!issueUnknown) issued.set(token, exp * 1000);
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token },
    };
  };

  const server = await startTlsServer(opts.tls, handle);
  return {
    tenantId,
    clientId,
    port: server.port,
    hostAlias: `${ENTRA_HOST}:443=127.0.0.1:${server.port}`,
    env: {
      AZURE_AUTHORITY_HOST: base,
      AZURE_TENANT_ID: tenantId,
      AZURE_CLIENT_ID: clientId,
      AZURE_FEDERATED_TOKEN_FILE: federatedTokenFile,
    },
    unsetEnv: AZURE_UNSET_ENV,
    isValidAccessToken: (token) => {
      const exp = issued.get(token);
      return exp !== undefined && exp > Date.now();
    },
    revokeAccessTokens: () => issued.clear(),
    setIssueUnknownTokens: (on) => {
      issueUnknown = on;
    },
    setExpiresIn: (s) => {
      expiresIn = s;
    },
    setTokenFailure: (f) => {
      failure = f;
    },
    tokenCalls: () => tokenCalls,
    metadataCalls: () => metadataCalls,
    refused: () => refused,
    close: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---- ACR token service -----------------------------------------------------------------------------------------

export interface AcrTokenServiceOptions {
  /** the registry's `auth.token.service`: the login server name, e.g. `chainsmith.azurecr.io` */
  service: string;
  /** also accepted as `service` of an exchange or token request (the login server with its test port) */
  serviceAliases?: string[];
  /** the registry's `auth.token.issuer` (ACR's tokens say `Azure Container Registry`) */
  issuer: string;
  /** signs access tokens; its certificate is the registry's `rootcertbundle` */
  signer: SigningCert;
  /** a certificate the registry does not trust, for `setSigning('untrusted-cert')` */
  untrustedSigner?: SigningCert;
  /** decides whether an Entra access token is genuine (the Entra stand-in's `isValidAccessToken`) */
  entra: Pick<EntraStandIn, 'isValidAccessToken' | 'tenantId'>;
  /** access token lifetime, seconds (default 75 minutes) */
  accessTokenSeconds?: number;
  /** refresh token lifetime, seconds (default 3 hours) */
  refreshTokenSeconds?: number;
}

export interface AcrTokenService {
  /** answers `/oauth2/exchange` and `/oauth2/token`; anything else gets 404 */
  handle(req: RecordedRequest): Reply;
  /**
   * Access tokens issued from now on live this long; at most -61 makes them expired for docker-registry, which
   * allows 60 s of leeway.
   */
  setAccessTokenSeconds(seconds: number): void;
  /**
   * How access tokens are signed from now on: `trusted` (default) by `signer`; `untrusted-cert` by `untrustedSigner`,
   * whose certificate is not in the registry's rootcertbundle; `wrong-key` with `signer`'s certificate in x5c but
   * another key, so the signature does not verify.
   */
  setSigning(mode: 'trusted' | 'untrusted-cert' | 'wrong-key'): void;
  /** every refresh token issued so far is refused by the token endpoint */
  revokeRefreshTokens(): void;
  /** exchanges answered with a refresh token */
  exchangeCalls(): number;
  /** token grants answered with an access token (POST and GET) */
  tokenCalls(): number;
  /** requests refused (bad Entra token, bad refresh token, wrong service, bad grant) */
  refused(): number;
  /** the last `service` parameters seen by the exchange and the token endpoint (to check what a client sends) */
  lastServices(): { exchange?: string; token?: string };
}

/** The ACR token service; mount it with e2e/lib/acr-front.ts on the registry's own host. */
export function createAcrTokenService(opts: AcrTokenServiceOptions): AcrTokenService {
  let accessSeconds = opts.accessTokenSeconds ?? 75 * 60;
  const refreshSeconds = opts.refreshTokenSeconds ?? 3 * 3600;
  let signing: 'trusted' | 'untrusted-cert' | 'wrong-key' = 'trusted';
  let wrongKey: KeyObject | undefined;
  let exchangeCalls = 0;
  let tokenCalls = 0;
  let refused = 0;
  const services: { exchange?: string; token?: string } = {};
  const refreshTokens = new Map<string, number>(); // token → expiry (ms)
  const okService = (s: string | null): boolean =>
    s !== null && (s === opts.service || (opts.serviceAliases ?? []).includes(s));

  const acrError = (status: number, code: string, message: string, challenge = false): Reply => {
    refused++;
    return {
      status,
      body: { errors: [{ code, message }] },
      headers: challenge ? { 'www-authenticate': `Basic realm="${opts.service}"` } : {},
    };
  };

  const accessToken = (scopes: string[]): string => {
    const access = scopes
      .filter((s) => s !== '')
      .map((s) => {
        const first = s.indexOf(':');
        const last = s.lastIndexOf(':');
        if (first < 0 || last === first) return undefined;
        return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',') };
      })
      .filter((a) => a !== undefined);
    const now = nowSeconds();
    const signer =
      signing === 'untrusted-cert' && opts.untrustedSigner
        ? opts.untrustedSigner
        : { key: signing === 'wrong-key' ? wrongKey! : opts.signer.key, certDer: opts.signer.certDer };
    return es256Jwt(
      signer.key,
      { x5c: [signer.certDer.toString('base64')] },
      {
        jti: randomUUID(),
        sub: ACR_NULL_USER,
        nbf: now,
        exp: now + accessSeconds,
        iat: now,
        iss: opts.issuer,
        aud: opts.service,
        version: '1.0',
        grant_type: 'refresh_token',
        tenant: opts.entra.tenantId,
        access,
      },
    );
  };

  const grant = (refresh: string | null, service: string | null, scopes: string[]): Reply => {
    services.token = service ?? undefined;
    if (!okService(service)) return acrError(400, 'UNSUPPORTED', `service ${service} is not this registry`);
    const exp = refresh === null ? undefined : refreshTokens.get(refresh);
    if (exp === undefined || exp <= Date.now()) return acrError(401, 'UNAUTHORIZED', 'invalid refresh token', true);
    tokenCalls++;
    return { status: 200, body: { access_token: accessToken(scopes) } };
  };

  return {
    handle: (req) => {
      const url = new URL(req.url, `https://${opts.service}`);
      if (url.pathname === '/oauth2/exchange') {
        if (req.method !== 'POST') return acrError(405, 'UNSUPPORTED', 'POST required');
        const f = form(req);
        services.exchange = f.get('service') ?? undefined;
        if (f.get('grant_type') !== 'access_token')
          return acrError(400, 'UNSUPPORTED', `grant_type ${f.get('grant_type')} is not served by the stand-in`);
        if (!okService(f.get('service'))) return acrError(400, 'UNSUPPORTED', 'service is not this registry');
        const tenant = f.get('tenant');
        if (tenant !== null && tenant !== opts.entra.tenantId) return acrError(401, 'UNAUTHORIZED', 'wrong tenant');
        if (!opts.entra.isValidAccessToken(f.get('access_token') ?? ''))
          return acrError(401, 'UNAUTHORIZED', 'the access token is invalid or expired');
        exchangeCalls++;
        const now = nowSeconds();
        const refresh = es256Jwt(
          opts.signer.key,
          { x5c: [opts.signer.certDer.toString('base64')] },
          {
            jti: randomUUID(),
            sub: ACR_NULL_USER,
            nbf: now,
            exp: now + refreshSeconds,
            iat: now,
            iss: opts.issuer,
            aud: opts.service,
            version: '1.0',
            grant_type: 'refresh_token',
            tenant: opts.entra.tenantId,
            permissions: { actions: ['read', 'write'] },
          },
        );
        refreshTokens.set(refresh, (now + refreshSeconds) * 1000);
        return { status: 200, body: { refresh_token: refresh } };
      }
      if (url.pathname === '/oauth2/token') {
        if (req.method === 'GET') {
          const auth = String(req.headers.authorization ?? '');
          const basic = /^Basic (.+)$/i.exec(auth);
          const decoded = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8') : '';
          const colon = decoded.indexOf(':');
          if (colon < 0 || decoded.slice(0, colon) !== ACR_NULL_USER)
            return acrError(401, 'UNAUTHORIZED', `Basic ${ACR_NULL_USER}:<refresh token> required`, true);
          const reply = grant(
            decoded.slice(colon + 1),
            url.searchParams.get('service'),
            url.searchParams.getAll('scope').flatMap((s) => s.split(' ')),
          );
          // the docker token API's GET answer names it `token`; ACR sends both
          if (reply.status === 200) {
            const t = (reply.body as { access_token: string }).access_token;
            reply.body = { token: t, access_token: t };
          }
          return reply;
        }
        if (req.method !== 'POST') return acrError(405, 'UNSUPPORTED', 'GET or POST required');
        const f = form(req);
        if (f.get('grant_type') !== 'refresh_token')
          return acrError(400, 'UNSUPPORTED', `grant_type ${f.get('grant_type')} is not served by the stand-in`);
        return grant(
          f.get('refresh_token'),
          f.get('service'),
          f.getAll('scope').flatMap((s) => s.split(' ')),
        );
      }
      return acrError(404, 'NOT_FOUND', `${req.method} ${url.pathname}`);
    },
    setAccessTokenSeconds: (s) => {
      accessSeconds = s;
    },
    setSigning: (mode) => {
      if (mode === 'untrusted-cert' && !opts.untrustedSigner) throw new Error('no untrustedSigner was given');
      signing = mode;
      wrongKey ??= generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    },
    revokeRefreshTokens: () => refreshTokens.clear(),
    exchangeCalls: () => exchangeCalls,
    tokenCalls: () => tokenCalls,
    refused: () => refused,
    lastServices: () => ({ ...services }),
  };
}

export { startTlsServer as startStandInTlsServer };
