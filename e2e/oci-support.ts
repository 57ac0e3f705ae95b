// Helpers shared by the OCI e2e tests: the registry under test, a file key signer, store requests,
// simple payloads, and a loopback HTTP server that answers registry faults on demand. Pushing and reading
// images is e2e/lib/registry.ts.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../src/config/parse.js';
import type { ChainsConfig } from '../src/config/types.js';
import type { Payload } from '../src/formats/types.js';
import { loadFileSigner } from '../src/signing/keys.js';
import { signPayload } from '../src/sigstore/sign-payload.js';
import type { Signer } from '../src/signing/signer.js';
import type { StoreRequest } from '../src/storage/storer.js';
import type { TaskRun } from '../src/tekton/types.js';
import { stackEnv } from './lib/env.js';

/** host:port of the real registry the tests push to (`CHAINSMITH_REGISTRY`, else the stack's .stack/env). */
export function registryUnderTest(): string {
  return process.env.CHAINSMITH_REGISTRY ?? stackEnv().registry;
}

/** A random repository path, so tests never see each other's tags. */
export function randomRepo(prefix = 'oci-e2e'): string {
  return `${prefix}/${randomUUID().slice(0, 8)}`;
}

/** A ChainsConfig with the oci storage settings under test and Chains' defaults elsewhere. */
export function testConfig(oci: Partial<ChainsConfig['storage']['oci']> = {}): ChainsConfig {
  const config = structuredClone(DEFAULT_CONFIG);
  // Runs' attestations go to the registry under test rather than to Tekton annotations.
  config.artifacts.taskrun.storage = ['oci'];
  config.artifacts.pipelinerun.storage = ['oci'];
  config.storage.oci = { ...config.storage.oci, ...oci };
  return config;
}

/** A fresh ECDSA P-256 file signer (x509.pem) and its public key PEM (what `cosign.pub` holds). */
export async function testSigner(): Promise<{ signer: Signer; publicKeyPem: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-oci-'));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir, 'x509.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFile(join(dir, 'cosign.pub'), publicKeyPem);
  return { signer: await loadFileSigner(dir), publicKeyPem, dir };
}

/** A TaskRun as storage sees it. */
export function testRun(namespace = 'default'): TaskRun {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'TaskRun',
    metadata: { name: `build-${randomUUID().slice(0, 6)}`, namespace, uid: randomUUID() },
    spec: {},
  };
}

/** The simple-signing payload cosign signs for `repository@digest`. */
export function simpleSigningPayload(repository: string, digest: string): Payload {
  const bytes = Buffer.from(
    `{"critical":{"identity":{"docker-reference":"${repository}"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":null}`,
  );
  return { bytes, kind: 'simplesigning' };
}

/** An in-toto statement (SLSA v0.2 or v1.0) about the given subjects with a builder id. */
export function provenancePayload(
  subjects: Array<{ name: string; digest: Record<string, string> }>,
  builderId: string,
  version: 'v0.2' | 'v1' = 'v0.2',
): Payload {
  const predicateType = version === 'v0.2' ? 'https://slsa.dev/provenance/v0.2' : 'https://slsa.dev/provenance/v1';
  const statement =
    version === 'v0.2'
      ? {
          _type: 'https://in-toto.io/Statement/v0.1',
          predicateType,
          subject: subjects,
          predicate: {
            builder: { id: builderId },
            buildType: 'tekton.dev/v1/TaskRun',
            invocation: { configSource: {}, parameters: {} },
            materials: [],
          },
        }
      : {
          _type: 'https://in-toto.io/Statement/v1',
          subject: subjects,
          predicateType,
          predicate: {
            buildDefinition: {
              buildType: 'https://tekton.dev/chains/v2/slsa',
              externalParameters: { runSpec: {} },
              internalParameters: {},
            },
            runDetails: { builder: { id: builderId }, metadata: { invocationID: randomUUID() } },
          },
        };
  return { bytes: Buffer.from(JSON.stringify(statement)), kind: 'in-toto', predicateType, subjects };
}

/** Signs a payload and wraps it as a StoreRequest; `withPublicKey` also hands storage the signer's public key. */
export async function signedRequest(
  signer: Signer,
  payload: Payload,
  config: ChainsConfig,
  run: TaskRun = testRun(),
  opts: { withPublicKey?: boolean } = {},
): Promise<StoreRequest> {
  const signed = await signPayload(signer, payload);
  if (opts.withPublicKey) signed.publicKey = signer.publicKey();
  return { run, payload, signed, shortKey: 'test', fullKey: 'test', config };
}

/** A loopback HTTP server whose every request is answered by `handler`; records what it saw. */
export async function faultServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, count: number) => void,
): Promise<{ registry: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => handler(req, res, requests.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    registry: `127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A self-signed P-256 certificate for 127.0.0.1 (PEM key and cert), for TLS registries in tests; made by openssl. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'chainsmith-tls-'));
  try {
    // prettier-ignore
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=chainsmith test registry', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
