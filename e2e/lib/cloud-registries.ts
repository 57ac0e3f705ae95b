// Cloud registries with their real auth, on loopback, for the keychain tests (issue 21): one Debian `docker-registry`
// (distribution 2.8, as e2e/stack/up.sh installs it) per cloud, behind the cloud's own way of handing out credentials,
// whose token endpoints are loopback stand-ins (test/oci/cloud-standins/) driven through the real SDKs:
//   ECR     123456789012.dkr.ecr.us-east-1.amazonaws.com:<port>  htpasswd `AWS:<bcrypt of the ECR stand-in's password>`
//   Google  us-docker.pkg.dev:<port>  htpasswd `oauth2accesstoken:<bcrypt of the metadata stand-in's access token>`
//   ACR     chainsmith.azurecr.io:<port>  a TLS front (e2e/lib/acr-front.ts): /oauth2/* → the ACR token stand-in, the
//           rest → docker-registry with `auth: token` (JWTs from that token service, x5c-verified)
// All serve TLS with a throwaway CA (`caFile`). A child process (the controller) reaches them by their cloud names
// with `childEnv()` / `controllerEnv`: e2e/lib/host-aliases.mjs resolves the names to 127.0.0.1, NODE_EXTRA_CA_CERTS
// trusts the CA, and the SDKs' own environment points them at the stand-ins.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo, type LookupFunction } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import bcrypt from 'bcryptjs';
import {
  ACR_NULL_USER,
  createAcrTokenService,
  ENTRA_HOST,
  startEntraStandIn,
  type AcrTokenService,
  type EntraStandIn,
} from '../../test/oci/cloud-standins/azure.js';
import { startEcrStandIn, type EcrStandIn } from '../../test/oci/cloud-standins/ecr.js';
import { startGceMetadataStandIn, type GceMetadataStandIn } from '../../test/oci/cloud-standins/gce-metadata.js';
import { createSigningCert, createTestPki } from '../../test/oci/cloud-standins/pki.js';
import { startAcrFront, type AcrFront } from './acr-front.js';
import { REPO_ROOT } from './env.js';

export const ECR_ACCOUNT = '123456789012';
export const ECR_REGION = 'us-east-1';
export const ECR_HOST = `${ECR_ACCOUNT}.dkr.ecr.${ECR_REGION}.amazonaws.com`;
export const GOOGLE_HOST = 'us-docker.pkg.dev';
export const ACR_HOST = 'chainsmith.azurecr.io';
/** what ACR's tokens carry as `iss` (and the ACR-like registry's `auth.token.issuer`) */
export const ACR_ISSUER = 'Azure Container Registry';
/** the module a child loads with NODE_OPTIONS=--import=… to resolve the cloud names */
export const HOST_ALIASES_MODULE = join(REPO_ROOT, 'e2e', 'lib', 'host-aliases.mjs');

interface CloudRegistryBase {
  /** `host:port`, as image references name it */
  registry: string;
  /** the cloud host name, without the port */
  host: string;
  port: number;
  /** docker-registry's log (info level: it says why a token or password was refused) */
  logFile: string;
}

export interface EcrRegistry extends CloudRegistryBase {
  accountId: string;
  region: string;
  username: 'AWS';
  /** the password the registry's htpasswd accepts: what the stand-in hands out until `standIn.setPassword` */
  acceptedPassword: string;
  standIn: EcrStandIn;
}

export interface GoogleRegistry extends CloudRegistryBase {
  username: 'oauth2accesstoken';
  /** the access token the registry's htpasswd accepts: what the stand-in hands out until `standIn.setToken` */
  acceptedToken: string;
  standIn: GceMetadataStandIn;
}

export interface AcrRegistry extends CloudRegistryBase {
  username: typeof ACR_NULL_USER;
  /** the registry's `auth.token.service`, as its challenge names it: the login server name without the port */
  service: string;
  /** `https://<registry>/oauth2/token`, the challenge's realm */
  realm: string;
  issuer: string;
  /** Microsoft Entra (token endpoint of the workload-identity grant) */
  entra: EntraStandIn;
  /** the registry's `/oauth2/exchange` and `/oauth2/token` */
  tokenService: AcrTokenService;
}

export interface CloudRegistries {
  ecr: EcrRegistry;
  google: GoogleRegistry;
  acr: AcrRegistry;
  /**
   * The variables a child process (the controller) needs, to merge over its environment (`childEnv()` does it, and
   * removes `unsetEnv` too): NODE_OPTIONS (--import of host-aliases.mjs), CHAINSMITH_TEST_HOST_ALIASES,
   * NODE_EXTRA_CA_CERTS, AWS_*, GCE_METADATA_HOST, CLOUDSDK_CONFIG, AZURE_*.
   */
  controllerEnv: Record<string, string>;
  /** variables to remove from a child's environment: other credentials the SDKs would pick first, proxies */
  unsetEnv: readonly string[];
  /**
   * `base` (default process.env) without `unsetEnv`, with `controllerEnv`; NODE_OPTIONS is appended to base's (so
   * `--import tsx` stays) and NODE_EXTRA_CA_CERTS replaced (the CA file holds only the test CA).
   */
  childEnv(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** PEM of the test CA that issued every TLS certificate here */
  caFile: string;
  /** `name=127.0.0.1,…,login.microsoftonline.com:443=127.0.0.1:<port>`: CHAINSMITH_TEST_HOST_ALIASES */
  hostAliases: string;
  /** the temp dir holding PKI, configs, htpasswd files, registry storage and logs (removed by stop) */
  dir: string;
  /**
   * An HTTPS request from this process to a cloud name (`https://<registry>/v2/…`): resolves the aliases and trusts
   * the CA without host-aliases.mjs. For checks by the test itself (what a controller pushed, a refused credential).
   */
  request(
    url: string,
    init?: { method?: string; headers?: Record<string, string>; body?: Buffer | string },
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>;
  /** stops the registries, the front and the stand-ins, and removes `dir` */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/** The docker-registry binary: $DOCKER_REGISTRY_BIN, or on PATH (`npm run stack:up` installs it with apt). */
function registryBinary(): string {
  const fromEnv = process.env.DOCKER_REGISTRY_BIN;
  if (fromEnv) return fromEnv;
  for (const d of (process.env.PATH ?? '').split(delimiter).concat('/usr/bin')) {
    if (d && existsSync(join(d, 'docker-registry'))) return join(d, 'docker-registry');
  }
  throw new Error('docker-registry not found on PATH: run `npm run stack:up` (it installs Debian docker-registry)');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface RunningRegistry {
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
}

async function startRegistry(
  bin: string,
  dir: string,
  name: string,
  port: number,
  http: string,
  auth: string,
): Promise<RunningRegistry> {
  const storage = join(dir, `${name}-storage`);
  await mkdir(storage);
  const config = join(dir, `${name}-registry.yml`);
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: info',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
      http,
      'auth:',
      auth,
      '',
    ].join('\n'),
  );
  const logFile = join(dir, `${name}-registry.log`);
  const log = createWriteStream(logFile);
  const child = spawn(bin, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, logFile, exited };
}

async function stopRegistry(r: RunningRegistry): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  r.child.kill('SIGTERM');
  const timer = setTimeout(() => r.child.kill('SIGKILL'), 5_000);
  await r.exited;
  clearTimeout(timer);
}

/** Starts the three cloud registries and their stand-ins; call `stop()` when done (tests: `after`). */
export async function startCloudRegistries(): Promise<CloudRegistries> {
  const adcFile = join(homedir(), '.config', 'gcloud', 'application_default_credentials.json');
  if (existsSync(adcFile))
    throw new Error(`${adcFile} exists: Google ADC would use it before the metadata stand-in; move it away`);
  const bin = registryBinary();
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-cloud-registries-'));
  const cleanups: (() => Promise<void>)[] = [];
  const registries: RunningRegistry[] = [];
  const stop = async (keepDir = false) => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
    await Promise.all(registries.map((r) => stopRegistry(r)));
    registries.length = 0;
    if (!keepDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    const pki = await createTestPki(dir, [ECR_HOST, GOOGLE_HOST, ACR_HOST, ENTRA_HOST]);
    const signer = await createSigningCert(dir, 'acr-token-signer');
    const untrustedSigner = await createSigningCert(dir, 'acr-untrusted-signer');
    const tls = { cert: pki.serverCertPem, key: pki.serverKeyPem };
    const tlsYaml = ['  tls:', `    certificate: ${pki.serverCertFile}`, `    key: ${pki.serverKeyFile}`].join('\n');
    const [ecrPort, googlePort, acrUpstreamPort] = [await freePort(), await freePort(), await freePort()];
    const ecrRegistry = `${ECR_HOST}:${ecrPort}`;
    const googleRegistry = `${GOOGLE_HOST}:${googlePort}`;

    // ---- stand-ins
    const ecr = await startEcrStandIn({ region: ECR_REGION, proxyEndpoint: `https://${ecrRegistry}` });
    cleanups.push(() => ecr.close());
    const gce = await startGceMetadataStandIn();
    cleanups.push(() => gce.close());
    const entra = await startEntraStandIn({ tls });
    cleanups.push(() => entra.close());

    // ---- ACR: the front's port names the realm, so it starts before its registry
    let acrRegistry = '';
    const tokenService = createAcrTokenService({
      service: ACR_HOST,
      get serviceAliases() {
        return [acrRegistry];
      },
      issuer: ACR_ISSUER,
      signer,
      untrustedSigner,
      entra,
    });
    const front: AcrFront = await startAcrFront({ tls, tokens: tokenService, upstreamPort: acrUpstreamPort });
    cleanups.push(() => front.close());
    acrRegistry = `${ACR_HOST}:${front.port}`;
    const realm = `https://${acrRegistry}/oauth2/token`;

    // ---- registries (bcrypt cost 4: docker-registry checks the hash on every request)
    const ecrPassword = ecr.password;
    const googleToken = gce.token;
    await writeFile(join(dir, 'ecr.htpasswd'), `AWS:${bcrypt.hashSync(ecrPassword, 4)}\n`);
    await writeFile(join(dir, 'google.htpasswd'), `oauth2accesstoken:${bcrypt.hashSync(googleToken, 4)}\n`);
    const htpasswd = (name: string) =>
      ['  htpasswd:', `    realm: ${name}`, `    path: ${join(dir, `${name}.htpasswd`)}`].join('\n');
    registries.push(await startRegistry(bin, dir, 'ecr', ecrPort, tlsYaml, htpasswd('ecr')));
    registries.push(await startRegistry(bin, dir, 'google', googlePort, tlsYaml, htpasswd('google')));
    registries.push(
      await startRegistry(
        bin,
        dir,
        'acr',
        acrUpstreamPort,
        '  relativeurls: false',
        [
          '  token:',
          `    realm: ${realm}`,
          `    service: ${ACR_HOST}`,
          `    issuer: ${ACR_ISSUER}`,
          `    rootcertbundle: ${signer.certFile}`,
        ].join('\n'),
      ),
    );

    // ---- the environment of a child
    const hostAliases = [
      `${ECR_HOST}=127.0.0.1`,
      `${GOOGLE_HOST}=127.0.0.1`,
      `${ACR_HOST}=127.0.0.1`,
      `${ENTRA_HOST}=127.0.0.1`,
      entra.hostAlias,
    ].join(',');
    const importFlag = `--import=${/\s/.test(HOST_ALIASES_MODULE) ? JSON.stringify(HOST_ALIASES_MODULE) : HOST_ALIASES_MODULE}`;
    const controllerEnv: Record<string, string> = {
      NODE_OPTIONS: importFlag,
      CHAINSMITH_TEST_HOST_ALIASES: hostAliases,
      NODE_EXTRA_CA_CERTS: pki.caFile,
      ...ecr.env,
      // no shared config or IMDS: the static keys above are the only AWS identity
      AWS_CONFIG_FILE: join(dir, 'aws-config-absent'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'aws-credentials-absent'),
      AWS_EC2_METADATA_DISABLED: 'true',
      ...gce.env,
      ...entra.env,
    };
    const unsetEnv = [
      ...new Set([
        'AWS_PROFILE',
        'AWS_DEFAULT_PROFILE',
        'AWS_SESSION_TOKEN',
        'AWS_ENDPOINT_URL',
        'AWS_DEFAULT_REGION',
        'AWS_ROLE_ARN',
        'AWS_WEB_IDENTITY_TOKEN_FILE',
        'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
        'AWS_CONTAINER_CREDENTIALS_FULL_URI',
        'AWS_CONTAINER_AUTHORIZATION_TOKEN',
        'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
        ...gce.unsetEnv,
        ...entra.unsetEnv,
        'HTTP_PROXY',
        'HTTPS_PROXY',
        'ALL_PROXY',
        'NO_PROXY',
        'http_proxy',
        'https_proxy',
        'all_proxy',
        'no_proxy',
      ]),
    ].filter((k) => !(k in controllerEnv));
    const childEnv = (base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => {
      const env: NodeJS.ProcessEnv = { ...base };
      for (const k of unsetEnv) delete env[k];
      Object.assign(env, controllerEnv);
      const prior = base.NODE_OPTIONS?.trim();
      if (prior && !prior.includes(HOST_ALIASES_MODULE)) env.NODE_OPTIONS = `${prior} ${importFlag}`;
      return env;
    };

    // ---- requests from this process to the cloud names
    const aliasOf = new Map([ECR_HOST, GOOGLE_HOST, ACR_HOST].map((h) => [h, '127.0.0.1']));
    const lookup: LookupFunction = (hostname, options, callback) => {
      const address = aliasOf.get(hostname.toLowerCase()) ?? (hostname === 'localhost' ? '127.0.0.1' : undefined);
      if (address === undefined) {
        callback(Object.assign(new Error(`not a test cloud host: ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
      } else if (options.all) {
        // the typed callback has no overload for `all`: net asks for a list of addresses then
        (callback as unknown as (e: null, list: { address: string; family: number }[]) => void)(null, [
          { address, family: 4 },
        ]);
      } else callback(null, address, 4);
    };
    const agent = new HttpsAgent({ keepAlive: true, ca: pki.caPem, lookup });
    cleanups.push(async () => agent.destroy());
    const request: CloudRegistries['request'] = (url, init = {}) =>
      new Promise((resolve, reject) => {
        const body = init.body === undefined ? undefined : Buffer.from(init.body);
        const req = httpsRequest(
          url,
          {
            method: init.method ?? 'GET',
            agent,
            headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...init.headers },
            signal: AbortSignal.timeout(30_000),
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });

    // ---- ready: every registry answers /v2/ with its challenge
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const [name, registry, r] of [
      ['ecr', ecrRegistry, registries[0]!],
      ['google', googleRegistry, registries[1]!],
      ['acr', acrRegistry, registries[2]!],
    ] as const) {
      for (;;) {
        if (r.child.exitCode !== null)
          throw new Error(`docker-registry (${name}) exited with ${r.child.exitCode}; see ${r.logFile}`);
        const status = await request(`https://${registry}/v2/`).then(
          (res) => res.status,
          () => 0,
        );
        if (status === 401) break;
        if (Date.now() > deadline)
          throw new Error(
            `docker-registry (${name}) not ready after ${READY_TIMEOUT_MS} ms (last /v2/: ${status}); see ${r.logFile}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    return {
      ecr: {
        registry: ecrRegistry,
        host: ECR_HOST,
        port: ecrPort,
        logFile: registries[0]!.logFile,
        accountId: ECR_ACCOUNT,
        region: ECR_REGION,
        username: 'AWS',
        acceptedPassword: ecrPassword,
        standIn: ecr,
      },
      google: {
        registry: googleRegistry,
        host: GOOGLE_HOST,
        port: googlePort,
        logFile: registries[1]!.logFile,
        username: 'oauth2accesstoken',
        acceptedToken: googleToken,
        standIn: gce,
      },
      acr: {
        registry: acrRegistry,
        host: ACR_HOST,
        port: front.port,
        logFile: registries[2]!.logFile,
        username: ACR_NULL_USER,
        service: ACR_HOST,
        realm,
        issuer: ACR_ISSUER,
        entra,
        tokenService,
      },
      controllerEnv,
      unsetEnv,
      childEnv,
      caFile: pki.caFile,
      hostAliases,
      dir,
      request,
      stop: () => stop(),
    };
  } catch (err) {
    // the logs the message points at stay
    await stop(true);
    throw err;
  }
}
