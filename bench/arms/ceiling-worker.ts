// The ceiling arm's process: a plain client that does the least any signer must do, with no limit
// on concurrency and no signing. Its throughput is the physical limit of this API server (and, for
// `oci` storage, this registry) on this machine.
//
// - `tekton` storage (config 1): for each finished, unmarked run, one merge patch writing the same
//   annotations Chains' `tekton` storage writes (a payload-sized payload, a signature-sized
//   envelope, empty cert/chain) plus `signed: "true"`.
// - `oci` storage (config 2, `--oci`): for each finished, unmarked run, the image named by its
//   IMAGE_URL/IMAGE_DIGEST results gets a `.sig` and an `.att` tag in cosign's layout, written
//   blind (per tag: two blob uploads, POST + PUT each, and the manifest PUT — no reads, where a
//   real signer must first read the tag to append to it), then one merge patch `signed: "true"`.
// - `tekton` storage with transparency (config 3, `--rekor URL`): for each finished, unmarked run, a
//   payload-sized in-toto statement naming the run's image is signed for real (DSSE, the bench's x509.pem, with
//   chainsmith's own signer and envelope code) and uploaded to Rekor as one attestation entry (`--entry dsse`, the
//   default, or `intoto`) with chainsmith's RekorClient, at most 64 uploads in flight (unbounded overloads the
//   stack's MariaDB); then one merge patch writes payload, envelope, the `transparency` annotation and
//   `signed: "true"`: what any signer that logs its attestations must at least cost.
// - keyless (config 4, `--rekor URL --fulcio URL --token-file FILE`): as config 3, but each run is signed with a
//   fresh ephemeral key and its own Fulcio certificate (chainsmith's KeylessSigner and FulcioClient, the token read
//   from FILE), logged with the certificate as verifier, and the cert/chain annotations hold it: what any signer
//   that asks Fulcio once per signature must at least cost.
// Usage: node --import tsx bench/arms/ceiling-worker.ts KUBECONFIG [--oci]
//          [--rekor URL [--entry dsse|intoto] [--fulcio URL --token-file FILE]]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { PIPELINERUNS, TASKRUNS, type ResourceType } from '../../src/kube/client.js';
import { loadFileSigner } from '../../src/signing/keys.js';
import type { Signer } from '../../src/signing/signer.js';
import {
  proposedEntry,
  RekorClient,
  transparencyEntryUrl,
  verifierPem,
  type AttestationEntryType,
} from '../../src/sigstore/rekor.js';
import { signPayload } from '../../src/sigstore/sign-payload.js';
import { FulcioClient } from '../../src/sigstore/fulcio.js';
import { KeylessSigner } from '../../src/sigstore/keyless.js';
import { adminClient, retryTransient, watchObjects } from '../../e2e/lib/kube.js';
import { closeRegistryConnections, MEDIA, putManifest, sha256Digest, uploadBlob } from '../../e2e/lib/registry.js';

const PAYLOAD = randomBytes(2400).toString('base64'); // ~3.2 kB, like an in-toto payload of these runs
const SIGNATURE = randomBytes(3300).toString('base64'); // ~4.4 kB, like the DSSE envelope around it
// ~6 kB, like a slsa/v2alpha4 envelope of these runs; each run's is its own, as a signer's would be.
const envelope = (): Buffer =>
  Buffer.from(
    JSON.stringify({
      payloadType: 'application/vnd.in-toto+json',
      payload: randomBytes(4500).toString('base64'),
      signatures: [{ keyid: '', sig: randomBytes(72).toString('base64') }],
    }),
  );

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    oci: { type: 'boolean', default: false },
    rekor: { type: 'string' },
    entry: { type: 'string', default: 'dsse' },
    fulcio: { type: 'string' },
    'token-file': { type: 'string' },
    'signing-secrets-dir': { type: 'string', default: '/etc/signing-secrets' },
  },
});
const oci = opts.oci!;
const api = adminClient(positionals[0]!);
const seen = new Set<string>();
const rekor = opts.rekor ? new RekorClient({ url: opts.rekor }) : undefined;
const entryType = opts.entry as AttestationEntryType;
const fulcio = opts.fulcio ? new FulcioClient({ url: opts.fulcio }) : undefined;
const tokenFile = opts['token-file'];
if (fulcio && !tokenFile) throw new Error('--fulcio needs --token-file');
const keySigner: Signer | undefined = rekor && !fulcio ? await loadFileSigner(opts['signing-secrets-dir']!) : undefined;
/** The signer of one run: the file key, or (keyless) a fresh key whose certificate is asked for at its signature. */
const signerForRun = (): Signer => (fulcio ? new KeylessSigner(fulcio, { tokenFile: tokenFile! }) : keySigner!);

interface RunObject {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string> };
  status?: { conditions?: Array<{ type: string; status: string }>; results?: Array<{ name: string; value: unknown }> };
}

function done(run: RunObject): boolean {
  return (run.status?.conditions ?? []).some(
    (c) => c.type === 'Succeeded' && (c.status === 'True' || c.status === 'False'),
  );
}

/** One cosign tag with one layer, written blind: the layer blob, a config blob, the manifest. */
async function pushTag(
  repo: string,
  tag: string,
  layer: Buffer,
  layerType: string,
  annotations: Record<string, string>,
): Promise<void> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] },
      config: {},
    }),
  );
  await Promise.all([uploadBlob(repo, layer), uploadBlob(repo, config)]);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, size: config.length, digest: sha256Digest(config) },
      layers: [{ mediaType: layerType, size: layer.length, digest: sha256Digest(layer), annotations }],
    }),
  );
  await putManifest(repo, tag, MEDIA.ociManifest, manifest);
}

/**
 * At most this many Rekor uploads in flight. Unbounded (a burst of 1,000 at once) exhausts the stack's MariaDB
 * (`Error 1040: Too many connections` → HTTP 500 for ~9 % of the entries); 64 uploads of ~0.2 s each allow ~300
 * entries/s, far above what this machine can log, so the bound costs the ceiling nothing.
 */
const MAX_UPLOADS = 64;

/** A counting semaphore: run() waits for a free slot. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(n: number) {
    this.free = n;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
const uploads = new Slots(MAX_UPLOADS);

const result = (run: RunObject, name: string): string =>
  String(run.status?.results?.find((r) => r.name === name)?.value ?? '');

/**
 * Signs an in-toto statement of the size these runs' provenance has (~3 kB) for the run's image and logs it in
 * Rekor; returns the annotations a `tekton` store writes for it, the `transparency` one included.
 */
async function signAndLog(run: RunObject, id: string): Promise<Record<string, string>> {
  const digest = result(run, 'IMAGE_DIGEST');
  const statement = {
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType: 'https://slsa.dev/provenance/v0.2',
    subject: [{ name: result(run, 'IMAGE_URL'), digest: { sha256: digest.replace(/^sha256:/, '') } }],
    predicate: {
      builder: { id: 'https://tekton.dev/chains/v2' },
      buildType: 'tekton.dev/v1/TaskRun',
      invocation: { parameters: {}, environment: { padding: randomBytes(1800).toString('base64') } },
      metadata: { buildStartedOn: new Date().toISOString(), completeness: { parameters: false } },
    },
  };
  const signed = await signPayload(signerForRun(), {
    kind: 'in-toto',
    bytes: Buffer.from(JSON.stringify(statement)),
  });
  const entry = proposedEntry('in-toto', signed, verifierPem(signed.cert, signed.publicKey), entryType);
  const logged = await uploads.run(() => rekor!.upload(entry));
  return {
    [`chains.tekton.dev/payload-${id}`]: signed.payload.toString('base64'),
    [`chains.tekton.dev/signature-${id}`]: signed.signature.toString('base64'),
    [`chains.tekton.dev/cert-${id}`]: Buffer.from(signed.cert).toString('base64'),
    [`chains.tekton.dev/chain-${id}`]: Buffer.from(signed.chain).toString('base64'),
    'chains.tekton.dev/transparency': transparencyEntryUrl(rekor!.url, logged.logIndex),
  };
}

/** The `.sig` and `.att` of the run's image (IMAGE_URL/IMAGE_DIGEST results). */
async function pushSignatures(run: RunObject): Promise<void> {
  const url = result(run, 'IMAGE_URL');
  const digest = result(run, 'IMAGE_DIGEST');
  if (!url.includes('/') || !digest.startsWith('sha256:')) throw new Error(`run has no IMAGE_URL/IMAGE_DIGEST results`);
  const prefix = `sha256-${digest.slice('sha256:'.length)}`;
  const payload = Buffer.from(
    `{"critical":{"identity":{"docker-reference":"${url}"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"optional":null}`,
  );
  await Promise.all([
    pushTag(url, `${prefix}.sig`, payload, 'application/vnd.dev.cosign.simplesigning.v1+json', {
      'dev.cosignproject.cosign/signature': randomBytes(72).toString('base64'),
    }),
    pushTag(url, `${prefix}.att`, envelope(), 'application/vnd.dsse.envelope.v1+json', {
      'dev.cosignproject.cosign/signature': '',
      predicateType: 'https://slsa.dev/provenance/v1',
    }),
  ]);
}

async function mark(res: ResourceType, kind: string, run: RunObject): Promise<void> {
  const { name, namespace, uid } = run.metadata;
  const id = `${kind}-${uid}`;
  let annotations: Record<string, string> = { 'chains.tekton.dev/signed': 'true' };
  if (oci) await pushSignatures(run);
  else if (rekor) annotations = { ...(await signAndLog(run, id)), ...annotations };
  else {
    annotations = {
      [`chains.tekton.dev/payload-${id}`]: PAYLOAD,
      [`chains.tekton.dev/signature-${id}`]: SIGNATURE,
      [`chains.tekton.dev/cert-${id}`]: '',
      [`chains.tekton.dev/chain-${id}`]: '',
      ...annotations,
    };
  }
  await retryTransient(() => api.mergePatch(res, namespace, name, { metadata: { annotations } }));
}

function onEvent(res: ResourceType, kind: string, run: RunObject): void {
  const key = `${res.plural}/${run.metadata.namespace}/${run.metadata.name}`;
  if (seen.has(key) || run.metadata.annotations?.['chains.tekton.dev/signed'] === 'true' || !done(run)) return;
  seen.add(key);
  void markRetrying(res, kind, run, key);
}

async function markRetrying(res: ResourceType, kind: string, run: RunObject, key: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await mark(res, kind, run);
    } catch (err) {
      process.stderr.write(`${key} attempt ${attempt} failed: ${(err as Error).message}\n`);
      if (attempt >= 5) return void seen.delete(key);
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

const watches = [
  watchObjects(api, TASKRUNS, undefined, (obj) => onEvent(TASKRUNS, 'taskrun', obj as unknown as RunObject)),
  watchObjects(api, PIPELINERUNS, undefined, (obj) =>
    onEvent(PIPELINERUNS, 'pipelinerun', obj as unknown as RunObject),
  ),
];
const mode = oci
  ? 'oci: .sig and .att pushed blind, then signed=true'
  : rekor
    ? `tekton + Rekor: a signed ${entryType} entry per run in ${rekor.url}` +
      (fulcio ? `, each signed keylessly with its own certificate from ${fulcio.url}` : '') +
      ', then annotations in one patch'
    : 'tekton: annotations in one patch';
process.stdout.write(`ceiling client watching taskruns and pipelineruns (${mode})\n`);
process.once('SIGTERM', () => {
  for (const w of watches) w.stop();
  api.close();
  closeRegistryConnections();
  process.exit(0);
});
