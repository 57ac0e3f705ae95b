// What the interop suites verify: images signed by the REAL controller, one per output of chainsmith. A scenario is
// one signer (a file key, a Vault KMS key, or keyless Fulcio certificates) with one encoding (`tags`: the .sig/.att
// layout of `storage.oci.encoding-format: dsse` in the stack's Debian registry; `referrers`: sigstore-bundle OCI 1.1
// referrers in olareg), its own controller and `builder.id`, and the trust material a verifier needs for it. Each
// scenario signs two images, one per SLSA version (chains-config is rewritten between them; the controller
// hot-reloads it), and pushes one it never signs. The tamper helpers edit what was stored after the fact.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../../src/tekton/types.js';
import type { ControllerProcess } from '../lib/controller.js';
import { emptyTrustedRoot, runTool } from '../lib/cosign.js';
import { fulcioEnv, rekorEnv, stackEnv, vaultEnv, vaultPublicKey, verifiersEnv } from '../lib/env.js';
import { createServiceAccount, serviceAccountIdentity, serviceAccountToken } from '../lib/identity.js';
import type { Encoding, Payload, SignerKind } from '../lib/interop.js';
import { createNamespace } from '../lib/kube.js';
import {
  deleteManifest,
  fetchBlob,
  fetchManifest,
  MEDIA,
  pushRandomImage,
  putManifest,
  sha256Digest,
  splitRepo,
  uploadBlob,
  type Descriptor,
} from '../lib/registry.js';
import { completeImageTaskRun, startSigningController, writeChainsConfig, x509SecretsDir } from '../lib/scenario.js';
import { getTaskRun } from '../lib/tekton.js';
import { waitFor } from '../lib/wait.js';

export type { Encoding, SignerKind } from '../lib/interop.js';

/** An image in a registry, by digest. */
export interface SignedImage {
  /** `host:port/repo@sha256:…` */
  ref: string;
  /** `host:port` of the registry */
  registry: string;
  /** `host:port/repo`, what the TaskRun's IMAGE_URL result names */
  repository: string;
  /** `sha256:…` */
  digest: string;
}

/** What a verifier needs to check a scenario's signatures, and a key that signed nothing. */
export interface Trust {
  /** key and KMS signers: the public key (PEM file and text) */
  publicKeyFile?: string;
  publicKeyPem?: string;
  /** keyless: the certificate identity (the controller's ServiceAccount), the OIDC issuer, the Fulcio root PEM */
  identity?: string;
  issuer?: string;
  fulcioRootFile?: string;
  /** set when the scenario logged to Rekor */
  rekorUrl?: string;
  rekorPublicKeyFile?: string;
  /** a key that signed nothing (the "wrong key" case) */
  otherPublicKeyFile: string;
  otherPublicKeyPem: string;
  /** keyless: a ServiceAccount identity that signed nothing (the "wrong key" case for identities) */
  otherIdentity?: string;
  /**
   * A Sigstore trusted_root.json (cosign `--trusted-root`, for bundles) holding exactly this scenario's
   * transparency log and Fulcio root, made by `cosign trusted-root create`; empty lists for the key-only KMS
   * scenario (with `--key`, cosign then needs `--insecure-ignore-tlog`).
   */
  trustedRootFile: string;
}

export interface Scenario {
  signer: SignerKind;
  encoding: Encoding;
  /** `host:port` of the registry the images are in */
  registry: string;
  builderId: string;
  /** whether signatures were logged in the stack's Rekor */
  transparency: boolean;
  /** simplesigning signature + SLSA v0.2 attestation (artifacts.taskrun.format slsa/v1) */
  slsa02: SignedImage;
  /** simplesigning signature + SLSA v1.0 attestation (artifacts.taskrun.format slsa/v2alpha4) */
  slsa10: SignedImage;
  /** pushed to the same registry, never signed */
  unsigned: SignedImage;
  trust: Trust;
}

/** chains-config's name for the format of each provenance payload. */
const TASKRUN_FORMAT: Record<Exclude<Payload, 'simplesigning'>, string> = {
  'SLSA v0.2': 'slsa/v1',
  'SLSA v1.0': 'slsa/v2alpha4',
};
const PREDICATE_TYPE: Record<Exclude<Payload, 'simplesigning'>, string> = {
  'SLSA v0.2': 'https://slsa.dev/provenance/v0.2',
  'SLSA v1.0': 'https://slsa.dev/provenance/v1',
};
const SA = 'chainsmith-controller';
const SIGNED = 'chains.tekton.dev/signed';

/** One scenario's live parts: its controller, its config, and the lock that keeps one format switch at a time. */
interface Live {
  scenario: Scenario;
  ns: string;
  systemNs: string;
  controller: ControllerProcess;
  config: Record<string, string>;
  format: string;
  queue: Promise<unknown>;
  dirs: string[];
}

const live = new Map<string, Promise<Live>>();
const key = (signer: SignerKind, encoding: Encoding) => `${signer}|${encoding}`;
const slug = (signer: SignerKind, encoding: Encoding) => `${signer.toLowerCase()}-${encoding}`;

/** The scenario `signer` × `encoding`, set up (controller started, images signed) once per process. */
export async function scenario(signer: SignerKind, encoding: Encoding): Promise<Scenario> {
  return (await liveScenario(signer, encoding)).scenario;
}

function liveScenario(signer: SignerKind, encoding: Encoding): Promise<Live> {
  let p = live.get(key(signer, encoding));
  if (!p) {
    p = setUp(signer, encoding);
    live.set(key(signer, encoding), p);
  }
  return p;
}

/** A new image signed like the scenario (both sig and attestation of `payload`'s format), for tests that tamper with it. */
export async function freshSignedImage(
  signer: SignerKind,
  encoding: Encoding,
  payload: 'SLSA v0.2' | 'SLSA v1.0',
): Promise<SignedImage> {
  const l = await liveScenario(signer, encoding);
  const image = await pushImage(l.scenario.registry, `interop/${slug(signer, encoding)}/fresh`);
  await sign(l, payload, image);
  return image;
}

/** Stops every controller this process started and removes their scratch directories. */
export async function closeScenarios(): Promise<void> {
  const all = [...live.values()];
  live.clear();
  await Promise.all(
    all.map(async (p) => {
      const l = await p.catch(() => undefined);
      if (!l) return;
      await l.controller.stop();
      await Promise.all(l.dirs.map((d) => rm(d, { recursive: true, force: true })));
    }),
  );
}

async function pushImage(registry: string, path: string): Promise<SignedImage> {
  const pushed = await pushRandomImage(`${registry}/${path}`);
  return { ref: pushed.ref, registry, repository: pushed.repository, digest: pushed.digest };
}

async function setUp(signer: SignerKind, encoding: Encoding): Promise<Live> {
  const name = slug(signer, encoding);
  const registry = encoding === 'tags' ? stackEnv().registry : verifiersEnv().referrersRegistry;
  const builderId = `https://chainsmith.dev/interop/${name}`;
  const ns = await createNamespace(`interop-${name}`);
  const systemNs = await createNamespace(`interop-${name}-sys`);
  const dir = await mkdtemp(join(tmpdir(), `chainsmith-interop-${name}-`));
  const dirs = [dir];

  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherPublicKeyPem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const otherPublicKeyFile = join(dir, 'other.pub');
  await writeFile(otherPublicKeyFile, otherPublicKeyPem);

  const config: Record<string, string> = {
    'artifacts.taskrun.format': TASKRUN_FORMAT['SLSA v0.2'],
    'artifacts.taskrun.storage': 'tekton,oci',
    'artifacts.pipelinerun.storage': 'tekton',
    'artifacts.oci.storage': 'oci',
    'builder.id': builderId,
    'storage.oci.encoding-format': encoding === 'tags' ? 'dsse' : 'sigstore-bundle',
  };
  let secretsDir = join(dir, 'no-signing-secrets');
  const env: Record<string, string> = {};
  const trust: Omit<Trust, 'trustedRootFile'> = { otherPublicKeyFile, otherPublicKeyPem };
  let transparency = true;

  if (signer === 'key') {
    secretsDir = await x509SecretsDir(`chainsmith-interop-${name}-secrets-`);
    dirs.push(secretsDir);
    trust.publicKeyFile = join(secretsDir, 'cosign.pub');
  } else if (signer === 'KMS') {
    const vault = vaultEnv();
    config['artifacts.taskrun.signer'] = 'kms';
    config['artifacts.oci.signer'] = 'kms';
    config['signers.kms.kmsref'] = `hashivault://${vault.key}`;
    trust.publicKeyFile = join(dir, 'kms.pub');
    await writeFile(trust.publicKeyFile, await vaultPublicKey(vault));
    transparency = false;
  } else {
    const fulcio = fulcioEnv();
    await createServiceAccount(systemNs, SA);
    const tokenFile = join(dir, 'oidc-token');
    // an hour: the scenario outlives one test file's few minutes when another suite signs fresh images with it
    await writeFile(tokenFile, await serviceAccountToken(systemNs, SA, 'sigstore', 3600), { mode: 0o600 });
    config['signers.x509.fulcio.enabled'] = 'true';
    config['signers.x509.fulcio.address'] = fulcio.url;
    config['signers.x509.fulcio.issuer'] = fulcio.issuer;
    config['signers.x509.identity.token.file'] = tokenFile;
    trust.identity = serviceAccountIdentity(systemNs, SA);
    trust.otherIdentity = serviceAccountIdentity(systemNs, 'someone-else');
    trust.issuer = fulcio.issuer;
    trust.fulcioRootFile = fulcio.root;
  }
  if (signer === 'key' || signer === 'keyless') {
    const rekor = rekorEnv();
    config['transparency.enabled'] = 'true';
    config['transparency.url'] = rekor.url;
    env.SIGSTORE_REKOR_PUBLIC_KEY = rekor.publicKey;
    trust.rekorUrl = rekor.url;
    trust.rekorPublicKeyFile = rekor.publicKey;
  }
  if (trust.publicKeyFile) trust.publicKeyPem = await readFile(trust.publicKeyFile, 'utf8');
  const trustedRootFile = await trustedRoot(join(dir, 'trusted_root.json'), trust);

  await writeChainsConfig(systemNs, config);
  const controller = await startSigningController(ns, systemNs, secretsDir, { env });
  const l: Live = {
    scenario: undefined as unknown as Scenario,
    ns,
    systemNs,
    controller,
    config,
    format: config['artifacts.taskrun.format']!,
    queue: Promise.resolve(),
    dirs,
  };
  try {
    const [slsa02, slsa10, unsigned] = await Promise.all([
      pushImage(registry, `interop/${name}/slsa02`),
      pushImage(registry, `interop/${name}/slsa10`),
      pushImage(registry, `interop/${name}/unsigned`),
    ]);
    await sign(l, 'SLSA v0.2', slsa02);
    await sign(l, 'SLSA v1.0', slsa10);
    l.scenario = {
      signer,
      encoding,
      registry,
      builderId,
      transparency,
      slsa02,
      slsa10,
      unsigned,
      trust: { ...trust, trustedRootFile },
    };
    return l;
  } catch (err) {
    await controller.stop();
    throw err;
  }
}

/**
 * Signs `image` with a TaskRun whose provenance has `payload`'s format: switches chains-config when the scenario's
 * controller is on the other format (and waits until it applied it), then waits for `signed: "true"`. One signing
 * at a time per scenario, so no run is reconciled while the format changes under it.
 */
function sign(l: Live, payload: 'SLSA v0.2' | 'SLSA v1.0', image: SignedImage): Promise<void> {
  const next = l.queue.then(async () => {
    const format = TASKRUN_FORMAT[payload];
    if (l.format !== format) {
      const applied = () => l.controller.lines.filter((line) => line.includes('chains-config applied')).length;
      const before = applied();
      l.config['artifacts.taskrun.format'] = format;
      await writeChainsConfig(l.systemNs, l.config);
      await waitFor(() => applied() > before, {
        timeoutMs: 30_000,
        description: `the controller applying artifacts.taskrun.format ${format}`,
      });
      l.format = format;
    }
    const name = await completeImageTaskRun(l.ns, image);
    const run = await waitFor(
      async () => {
        const r = await getTaskRun(l.ns, name);
        const signed = r.metadata.annotations?.[SIGNED];
        return signed === 'true' || signed === 'failed' ? r : undefined;
      },
      { timeoutMs: 120_000, description: `${SIGNED}=true on ${l.ns}/${name} (${image.ref})` },
    );
    if (run.metadata.annotations?.[SIGNED] === 'failed')
      throw new Error(`${l.ns}/${name} was marked signed=failed:\n${l.controller.logs().slice(-3000)}`);
    const statement = storedStatement(run);
    if (statement.predicateType !== PREDICATE_TYPE[payload])
      throw new Error(`${l.ns}/${name}: provenance is ${statement.predicateType}, expected ${PREDICATE_TYPE[payload]}`);
  });
  // the next signing waits for this one, failed or not
  l.queue = next.catch(() => undefined);
  return next;
}

/** The run's provenance as the tekton storage stored it (`chains.tekton.dev/payload-taskrun-<uid>`). */
function storedStatement(run: Run): { predicateType?: string } {
  const payload = run.metadata.annotations?.[`chains.tekton.dev/payload-taskrun-${run.metadata.uid}`];
  if (!payload) throw new Error(`${run.metadata.name} has no chains.tekton.dev/payload-taskrun-<uid> annotation`);
  return JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as { predicateType?: string };
}

// ---- trust material ------------------------------------------------------------------------------------------

/** Writes the scenario's trusted_root.json with `cosign trusted-root create` (v3): its Rekor, its Fulcio, no CT log. */
async function trustedRoot(file: string, trust: Omit<Trust, 'trustedRootFile'>): Promise<string> {
  const args = ['trusted-root', 'create', '--out', file];
  // Rekor's key and Fulcio's CA predate every signature of this stack; the epoch is as good a start as any
  const start = '2000-01-01T00:00:00Z';
  if (trust.rekorUrl && trust.rekorPublicKeyFile)
    args.push('--rekor', `url=${trust.rekorUrl},public-key=${trust.rekorPublicKeyFile},start-time=${start}`);
  if (trust.fulcioRootFile)
    args.push('--fulcio', `url=${fulcioEnv().url},certificate-chain=${trust.fulcioRootFile},start-time=${start}`);
  if (args.length === 4) {
    // key only: an empty root (with --key, cosign wants one for bundles but takes nothing from it)
    return emptyTrustedRoot(file);
  }
  const made = await runTool(verifiersEnv().cosign3, args);
  if (made.code !== 0) throw new Error(`cosign trusted-root create ${args.slice(2).join(' ')}:\n${made.out}`);
  return file;
}

// ---- tampering -----------------------------------------------------------------------------------------------

const BUNDLE_MEDIA = 'application/vnd.dev.sigstore.bundle';
const COSIGN_SIGN = 'https://sigstore.dev/cosign/sign/v1';

/** Makes the image signature no longer verify (tags: the .sig layers' payloads; referrers: the signature bundle). */
export async function tamperSignature(img: SignedImage, encoding: Encoding): Promise<void> {
  if (encoding === 'tags') await tamperTagLayers(img, 'sig', alterSimpleSigning);
  else await tamperReferrers(img, 'signature');
}

/** Makes the attestations no longer verify (tags: the .att layers' envelopes; referrers: the attestation bundles). */
export async function tamperAttestation(img: SignedImage, encoding: Encoding): Promise<void> {
  if (encoding === 'tags') await tamperTagLayers(img, 'att', alterEnvelope);
  else await tamperReferrers(img, 'attestation');
}

/** The signed bytes with one claim added: what an attacker editing the stored layer would produce. */
function alterSimpleSigning(payload: Buffer): Buffer {
  const json = JSON.parse(payload.toString('utf8')) as { optional?: Record<string, unknown> | null };
  json.optional = { ...(json.optional ?? {}), 'chainsmith.dev/tampered': 'true' };
  return Buffer.from(JSON.stringify(json));
}

function alterStatement(payloadB64: string): string {
  const statement = JSON.parse(Buffer.from(payloadB64, 'base64').toString('utf8')) as {
    predicate?: Record<string, unknown>;
  };
  statement.predicate = { ...(statement.predicate ?? {}), 'chainsmith.dev/tampered': true };
  return Buffer.from(JSON.stringify(statement)).toString('base64');
}

/** A DSSE envelope whose payload (the in-toto statement) gained a field; the signatures are left as they were. */
function alterEnvelope(envelope: Buffer): Buffer {
  const json = JSON.parse(envelope.toString('utf8')) as { payload: string };
  json.payload = alterStatement(json.payload);
  return Buffer.from(JSON.stringify(json));
}

/** Replaces every layer of `sha256-<hex>.<suffix>` by `alter(layer)`, keeping its annotations (signature, bundle). */
async function tamperTagLayers(img: SignedImage, suffix: 'sig' | 'att', alter: (b: Buffer) => Buffer): Promise<void> {
  const tag = `sha256-${img.digest.slice('sha256:'.length)}.${suffix}`;
  const m = await fetchManifest(img.repository, tag);
  if (!m) throw new Error(`tamper: ${img.repository}:${tag} does not exist`);
  const layers = m.json.layers as Descriptor[];
  const altered: Descriptor[] = [];
  for (const layer of layers) {
    const blob = alter(await fetchBlob(img.repository, layer.digest));
    altered.push({ ...layer, digest: await uploadBlob(img.repository, blob), size: blob.length });
  }
  const body = Buffer.from(JSON.stringify({ ...m.json, layers: altered }));
  await putManifest(img.repository, tag, m.mediaType || MEDIA.ociManifest, body);
}

interface SigstoreBundle {
  dsseEnvelope?: { payload: string; payloadType: string };
  messageSignature?: { messageDigest?: { digest: string } };
}

/**
 * Replaces each bundle referrer of `img` that holds `which` (the image signature: a cosign-sign statement or a
 * message signature; an attestation: any other statement) by one whose signed content was altered, and deletes the
 * original, so only the tampered referrer is left for verifiers to find.
 */
async function tamperReferrers(img: SignedImage, which: 'signature' | 'attestation'): Promise<void> {
  let tampered = 0;
  for (const ref of await referrersOf(img)) {
    const m = await fetchManifest(img.repository, ref.digest);
    const layers = (m?.json.layers as Descriptor[] | undefined) ?? [];
    if (!m || layers.length !== 1 || !layers[0]!.mediaType.startsWith(BUNDLE_MEDIA)) continue;
    const bundle = JSON.parse((await fetchBlob(img.repository, layers[0]!.digest)).toString('utf8')) as SigstoreBundle;
    const isSignature =
      bundle.messageSignature !== undefined ||
      (bundle.dsseEnvelope !== undefined && predicateTypeOf(bundle.dsseEnvelope.payload) === COSIGN_SIGN);
    if (isSignature !== (which === 'signature')) continue;
    if (bundle.dsseEnvelope) bundle.dsseEnvelope.payload = alterStatement(bundle.dsseEnvelope.payload);
    else if (bundle.messageSignature?.messageDigest) {
      const d = Buffer.from(bundle.messageSignature.messageDigest.digest, 'base64');
      d[0] = d[0]! ^ 0xff;
      bundle.messageSignature.messageDigest.digest = d.toString('base64');
    }
    const blob = Buffer.from(JSON.stringify(bundle));
    const layer = { ...layers[0]!, digest: await uploadBlob(img.repository, blob), size: blob.length };
    const body = Buffer.from(JSON.stringify({ ...m.json, layers: [layer] }));
    await putManifest(img.repository, sha256Digest(body), MEDIA.ociManifest, body);
    await deleteManifest(img.repository, ref.digest);
    tampered++;
  }
  if (tampered === 0) throw new Error(`tamper: ${img.ref} has no ${which} bundle referrer`);
}

function predicateTypeOf(payloadB64: string): string | undefined {
  try {
    return (JSON.parse(Buffer.from(payloadB64, 'base64').toString('utf8')) as { predicateType?: string }).predicateType;
  } catch {
    return undefined;
  }
}

/** The referrers of `img` from the registry's OCI 1.1 referrers API (olareg). */
async function referrersOf(img: SignedImage): Promise<Descriptor[]> {
  const { registry, path } = splitRepo(img.repository);
  const url = `http://${registry}/v2/${path}/referrers/${img.digest}`;
  const res = await fetch(url, { headers: { accept: MEDIA.ociIndex } });
  if (!res.ok) throw new Error(`tamper: GET ${url}: HTTP ${res.status}`);
  return ((await res.json()) as { manifests?: Descriptor[] }).manifests ?? [];
}
