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
// Usage: node --import tsx bench/arms/ceiling-worker.ts KUBECONFIG [--oci]
import { randomBytes } from 'node:crypto';
import { PIPELINERUNS, TASKRUNS, type ResourceType } from '../../src/kube/client.js';
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

const oci = process.argv.includes('--oci');
const api = adminClient(process.argv[2]!);
const seen = new Set<string>();

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

/** The `.sig` and `.att` of the run's image (IMAGE_URL/IMAGE_DIGEST results). */
async function pushSignatures(run: RunObject): Promise<void> {
  const result = (name: string): string => String(run.status?.results?.find((r) => r.name === name)?.value ?? '');
  const url = result('IMAGE_URL');
  const digest = result('IMAGE_DIGEST');
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
process.stdout.write(
  `ceiling client watching taskruns and pipelineruns (${oci ? 'oci: .sig and .att pushed blind, then signed=true' : 'tekton: annotations in one patch'})\n`,
);
process.once('SIGTERM', () => {
  for (const w of watches) w.stop();
  api.close();
  closeRegistryConnections();
  process.exit(0);
});
