// Property tests over the parsers of untrusted text: run files (JSON/YAML, v1 and v1beta1), type hinting and
// every payload format built from what was read, chains-config, kubeconfig, and the two image-reference parsers.
// Each property calls the real entry point and asserts: only the documented error type (one line, no control
// characters), bounded time and memory per input (harness.ts), and the parser's own promises.
import { after, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { extractArtifacts } from '../../src/artifacts/index.js';
import { parseImageReference, parseReference, repositoryName } from '../../src/reference/reference.js';
import {
  configDataFromText,
  DEFAULT_CONFIG,
  enabledArtifactTypes,
  parseChainsConfig,
  unknownConfigKeys,
} from '../../src/config/parse.js';
import type { ChainsConfig, RunFormat } from '../../src/config/types.js';
import { payloadFormat, RUN_FORMATS } from '../../src/formats/index.js';
import type { FormatInput } from '../../src/formats/types.js';
import { loadClusterConnection } from '../../src/kube/kubeconfig.js';
import { groupRuns } from '../../src/tekton/collect.js';
import { parseRunDocuments } from '../../src/tekton/read.js';
import type { Run } from '../../src/tekton/types.js';
import {
  corrupt,
  type Edit,
  hostileYamlText,
  mutate,
  mutationArb,
  referenceText,
  runDocument,
  runText,
  serialise,
  type Json,
} from './arbitraries.js';
import { assertDocumentedError, budgetMs, fuzz, reportFigures } from './harness.js';

// This file's share of the suite's FUZZ_SECONDS, split evenly between its targets.
const SHARE = 0.4;
const TARGETS = 5;
const budget = budgetMs(SHARE, TARGETS);

after(() => {
  process.stdout.write(`${reportFigures('parsers')}\n`);
});

/** Characters a reference accepted for signing or for a registry URL must never hold. */
const UNSAFE_IN_REFERENCE = /\.\.|[?#\s\u0000-\u001f\u007f-\u009f]/;

function parseRunsOrDocumentedError(text: string): Run[] | undefined {
  try {
    return parseRunDocuments(text);
  } catch (err) {
    assertDocumentedError(err, 'parseRunDocuments');
    return undefined;
  }
}

test('run files: parseRunDocuments returns runs or one InvalidRun line, for any text', async () => {
  await fuzz(
    'runs: parseRunDocuments',
    runText,
    (text) => {
      const runs = parseRunsOrDocumentedError(text);
      if (!runs) return;
      for (const r of runs) {
        const kind: unknown = r.kind;
        if (kind !== 'TaskRun' && kind !== 'PipelineRun') throw new Error(`a ${String(kind)} came back as a run`);
        if (r.metadata === null || typeof r.metadata !== 'object') throw new Error('a run came back without metadata');
      }
    },
    { budgetMs: budget },
  );
});

/** Every format, as the controller and `provenance` would call it, on each signable input of the runs. */
function buildEverything(runs: Run[]): void {
  const { pipelineRuns, taskRuns } = groupRuns(runs);
  const inputs: FormatInput[] = [
    ...taskRuns.map((run): FormatInput => ({ kind: 'TaskRun', run })),
    ...pipelineRuns.map((run): FormatInput => ({ kind: 'PipelineRun', run })),
  ];
  for (const input of inputs) {
    for (const format of RUN_FORMATS) {
      for (const deep of [false, true]) {
        let extracted;
        try {
          extracted = extractArtifacts(input, format, { deepInspection: deep });
        } catch (err) {
          assertDocumentedError(err, `extractArtifacts(${input.kind}, ${format})`);
          continue;
        }
        for (const img of extracted.images) {
          // An image to sign is where credentials will be sent: it must be a reference the registry client accepts.
          const shown = JSON.stringify(`${img.repository}@${img.digest}`);
          if (UNSAFE_IN_REFERENCE.test(img.repository)) {
            throw new Error(`image to sign ${shown} holds .., ?, #, whitespace or a control character`);
          }
          const ref = parseReference(`${img.repository}@${img.digest}`);
          if (!ref) throw new Error(`image to sign ${shown} is refused by the registry client's parser`);
          if (repositoryName(ref) !== img.repository) {
            throw new Error(`image to sign ${img.repository} is ${repositoryName(ref)} to the registry client`);
          }
        }
      }
      const config: ChainsConfig = structuredClone(DEFAULT_CONFIG) as ChainsConfig;
      config.artifacts.pipelinerun.deepInspection = input.kind === 'PipelineRun';
      try {
        const payload = payloadFormat(format as RunFormat).createPayload(input, config);
        JSON.parse(payload.bytes.toString('utf8'));
      } catch (err) {
        assertDocumentedError(err, `${format} createPayload(${input.kind})`);
      }
    }
  }
}

test('type hinting and every payload format: runs that were read never crash extraction or building', async () => {
  const arb = fc.tuple(runDocument, fc.constantFrom('json', 'yaml')).map(([doc, how]) => serialise(doc, how));
  await fuzz(
    'runs: artifacts + formats',
    arb,
    (text) => {
      const runs = parseRunsOrDocumentedError(text);
      if (runs) buildEverything(runs);
    },
    { budgetMs: budget },
  );
});

// ---------------------------------------------------------------------------------------------------------------

const CONFIG_DATA: Record<string, string> = {
  'artifacts.taskrun.format': 'slsa/v2alpha4',
  'artifacts.taskrun.storage': 'tekton,oci',
  'artifacts.taskrun.signer': 'x509',
  'artifacts.pipelinerun.format': 'in-toto',
  'artifacts.pipelinerun.storage': 'oci',
  'artifacts.pipelinerun.enable-deep-inspection': 'true',
  'artifacts.oci.storage': 'oci',
  'storage.oci.repository': 'registry.example.com/attestations',
  'storage.oci.repository.insecure': 'false',
  'storage.oci.encoding-format': 'sigstore-bundle',
  'signers.kms.kmsref': 'hashivault://transit/keys/chains',
  'signers.kms.auth.token': 'fuzz-secret-kms-token',
  'transparency.enabled': 'manual',
  'builder.id': 'https://example.com/builders/tekton',
  'builddefinition.buildtype': 'https://tekton.dev/chains/v2/slsa-tekton',
  'filter.managed-by': 'tekton-pipelines,pipelinesascode.tekton.dev',
  'chainsmith.max-retries': '5',
  'chainsmith.retry-horizon': '1h30m',
};

const configMap = (): Json => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'chains-config' },
  data: CONFIG_DATA,
});

const configDocument: fc.Arbitrary<Json> = fc
  .tuple(fc.boolean(), fc.array(mutationArb, { maxLength: 4 }))
  .map(([asConfigMap, muts]) => mutate(asConfigMap ? configMap() : CONFIG_DATA, muts));

const configText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(configDocument, fc.constantFrom('json', 'yaml')).map(([d, how]) => serialise(d, how)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(configDocument, fc.nat(), fc.constantFrom<Edit>('cut', 'insert', 'flip'))
      .map(([d, at, e]) => corrupt(serialise(d, 'yaml'), at, e)),
  },
  { weight: 2, arbitrary: hostileYamlText },
);

test('chains-config: any file text parses to a config or one InvalidConfig line', async () => {
  await fuzz(
    'chains-config',
    configText,
    (text) => {
      let data: Record<string, string>;
      try {
        data = configDataFromText(text, 'fuzz.yaml');
        const config = parseChainsConfig(data);
        enabledArtifactTypes(config);
      } catch (err) {
        assertDocumentedError(err, 'chains-config');
        return;
      }
      unknownConfigKeys(data);
    },
    { budgetMs: budget },
  );
});

// ---------------------------------------------------------------------------------------------------------------

const SECRET_MARKERS = ['fuzz-secret-token', 'fuzz-secret-password', 'RlVaWi1QUklWQVRFLUtFWQ', 'FUZZ-PRIVATE-KEY'];

const KUBECONFIG: Json = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    { name: 'c', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': 'Q0E=' } },
    { name: 'p', cluster: { server: 'https://10.0.0.1', 'insecure-skip-tls-verify': true, 'tls-server-name': 'kube' } },
  ],
  users: [
    { name: 'token', user: { token: 'fuzz-secret-token-0123456789' } },
    { name: 'basic', user: { username: 'admin', password: 'fuzz-secret-password' } },
    { name: 'cert', user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'RlVaWi1QUklWQVRFLUtFWQ==' } },
    {
      name: 'exec',
      user: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: 'kubectl-fuzz-plugin',
          args: ['token'],
          env: [{ name: 'A', value: 'b' }],
        },
      },
    },
    {
      name: 'provider',
      user: {
        'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/sh', 'cmd-args': '-c "touch /tmp/fuzz-pwned"' } },
      },
    },
  ],
  contexts: [
    { name: 'token', context: { cluster: 'c', user: 'token', namespace: 'builds' } },
    { name: 'basic', context: { cluster: 'c', user: 'basic' } },
    { name: 'cert', context: { cluster: 'p', user: 'cert' } },
    { name: 'exec', context: { cluster: 'c', user: 'exec' } },
    { name: 'provider', context: { cluster: 'c', user: 'provider' } },
  ],
  'current-context': 'token',
};

/** The kubeconfig with another current context. */
function withContext(ctx: string): Json {
  return { ...(KUBECONFIG as Record<string, Json>), 'current-context': ctx };
}

const kubeconfigText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom('token', 'basic', 'cert', 'exec', 'provider'),
        fc.array(mutationArb, { maxLength: 3 }),
        fc.constantFrom('json', 'yaml'),
      )
      .map(([ctx, muts, how]) => serialise(mutate(withContext(ctx), muts), how)),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('token', 'basic', 'cert'), fc.nat(), fc.constantFrom<Edit>('cut', 'insert', 'flip'))
      .map(([ctx, at, e]) => corrupt(serialise(withContext(ctx), 'yaml'), at, e)),
  },
  { weight: 1, arbitrary: hostileYamlText },
);

test('kubeconfig: any file loads or fails in one line without a credential; auth-provider is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainsmith-fuzz-kc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  await fuzz(
    'kubeconfig',
    kubeconfigText,
    (text) => {
      const file = join(dir, `config-${n++ % 4}`);
      writeFileSync(file, text);
      let connection;
      try {
        connection = loadClusterConnection(file, {});
      } catch (err) {
        // The commands print this message (payload, verify-run, audit): a plain Error is what they expect.
        assertDocumentedError(err, 'loadClusterConnection', { errorNames: ['FileReadError'], controlFree: true });
        const m = (err as Error).message;
        const leaked = SECRET_MARKERS.find((s) => m.includes(s));
        if (leaked) throw new Error(`an error names a credential (${leaked}): ${JSON.stringify(m.slice(0, 99))}`);
        return;
      }
      // Read loosely: before issue 15 the loader had a `client-node` kind that ran auth-provider commands.
      const auth = connection.auth as { kind: string; why?: string };
      if (auth.kind === 'client-node' && auth.why === 'auth-provider') {
        throw new Error(
          'a kubeconfig auth-provider was accepted (its cmd-path would run a command; kubectl refuses it)',
        );
      }
    },
    { budgetMs: budget },
  );
});

// ---------------------------------------------------------------------------------------------------------------

function checkOciReference(s: string): ReturnType<typeof parseReference> {
  let ref;
  try {
    ref = parseReference(s);
  } catch (err) {
    throw new Error(`oci parseReference threw on ${JSON.stringify(s.slice(0, 200))}: ${String(err)}`);
  }
  if (!ref) return undefined;
  for (const [part, v] of Object.entries(ref)) {
    // a tag may hold `..` (the grammar's `[\w][\w.-]{0,127}`, so `a..`): it is one path segment, never `.` or `..`
    const unsafe = part === 'tag' ? !/^\w[\w.-]{0,127}$/.test(String(v)) : UNSAFE_IN_REFERENCE.test(String(v));
    if (typeof v === 'string' && unsafe) {
      throw new Error(`oci parseReference accepted ${JSON.stringify(s)} with ${part} ${JSON.stringify(v)}`);
    }
  }
  if (ref.repository.split('/').some((c) => c === '' || c === '.' || c === '..')) {
    throw new Error(`oci parseReference accepted path ${JSON.stringify(ref.repository)}`);
  }
  const tag = ref.tag !== undefined ? `:${ref.tag}` : '';
  const again = parseReference(`${repositoryName(ref)}${tag}${ref.digest !== undefined ? `@${ref.digest}` : ''}`);
  if (JSON.stringify(again) !== JSON.stringify(ref)) {
    throw new Error(`${JSON.stringify(s)} does not round-trip: ${JSON.stringify(ref)} then ${JSON.stringify(again)}`);
  }
  return ref;
}

function checkArtifactReference(s: string): ReturnType<typeof parseImageReference> {
  let ref;
  try {
    ref = parseImageReference(s);
  } catch (err) {
    throw new Error(`artifacts parseImageReference threw on ${JSON.stringify(s.slice(0, 200))}: ${String(err)}`);
  }
  if (!ref) return undefined;
  if (UNSAFE_IN_REFERENCE.test(ref.repository)) {
    throw new Error(`artifacts parseImageReference accepted ${JSON.stringify(s)} as ${JSON.stringify(ref.repository)}`);
  }
  if (!/^sha256:[a-f0-9]{64}$/.test(ref.digest)) {
    throw new Error(`artifacts parseImageReference accepted digest ${JSON.stringify(ref.digest)}`);
  }
  const again = parseImageReference(`${ref.repository}@${ref.digest}`);
  if (again?.repository !== ref.repository || again.digest !== ref.digest) {
    throw new Error(`${JSON.stringify(s)} does not round-trip: ${ref.repository} then ${JSON.stringify(again)}`);
  }
  return ref;
}

test('image references: accepted ones round-trip, hold no .. ? # space or controls; parsers agree', async () => {
  await fuzz(
    'image references (both parsers)',
    referenceText,
    (s) => {
      const a = checkArtifactReference(s);
      const o = checkOciReference(s);
      // One grammar everywhere (issue 15 item 2): what type hinting signs is what the registry client talks to.
      const shown = JSON.stringify(s);
      if (a && !o)
        throw new Error(`${shown}: type hinting accepts it as ${a.repository}, the registry client does not`);
      if (o?.digest?.startsWith('sha256:') && !a) {
        throw new Error(`${shown}: the registry client accepts it as ${repositoryName(o)}, type hinting refuses it`);
      }
      if (a && o && (repositoryName(o) !== a.repository || o.digest !== a.digest)) {
        const theirs = `${repositoryName(o)}@${o.digest}`;
        throw new Error(`${shown}: type hinting names ${a.repository}@${a.digest}, the registry client ${theirs}`);
      }
    },
    { budgetMs: budget, runs: 5 },
  );
});
