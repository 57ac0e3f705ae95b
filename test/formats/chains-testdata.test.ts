// The §8.2 vectors once more, on Tekton Chains' own test data (test/fixtures/runs/chains, copied verbatim from
// tektoncd/chains pkg/chains/formats/slsa/testdata): same expectations, quoted from the spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { payloadFormat } from '../../src/formats/index.js';
import { parseRunDocuments } from '../../src/tekton/read.js';
import type { PipelineRun, TaskRun } from '../../src/tekton/types.js';
import type { FormatInput } from '../../src/formats/types.js';
import { config, fixture, IMG, IMG4, statementOf, T1, T2, T3, type Json } from './helpers.js';

const CHAINS = fileURLToPath(new URL('../fixtures/runs/chains/', import.meta.url));

function run<T>(name: string): T {
  const [r] = parseRunDocuments(readFileSync(CHAINS + name, 'utf8'));
  return r as T;
}

function pipelineRun(pr: string, children: string[]): FormatInput {
  return { kind: 'PipelineRun', run: { run: run<PipelineRun>(pr), children: children.map((c) => run<TaskRun>(c)) } };
}

test('Vector B on Chains data: slsa-v2alpha3/taskrun1.json gives the §3.7 statement byte for byte', () => {
  const p = payloadFormat('slsa/v2alpha3').createPayload(
    { kind: 'TaskRun', run: run<TaskRun>('slsa-v2alpha3/taskrun1.json') },
    config({ builderId: 'test_builder-1' }),
  );
  // the fixture spells the flags `EnableAPIFields`…; Chains' struct round trip makes them camelCase, as §3.7 shows
  assert.equal(p.bytes.toString('utf8'), JSON.stringify(fixture('vector-b-v2alpha3-taskrun1.expected.json')));
});

test('Vector C on Chains data: slsa-v2alpha4/taskrun1.json', () => {
  const got = statementOf(
    payloadFormat('slsa/v2alpha4').createPayload(
      { kind: 'TaskRun', run: run<TaskRun>('slsa-v2alpha4/taskrun1.json') },
      config({ builderId: 'test_builder-1' }),
    ),
  );
  assert.deepEqual(got.subject, [
    { name: 'gcr.io/my/image/fromstep3', digest: { sha256: IMG } },
    { name: 'gcr.io/my/image', digest: { sha256: IMG4 } },
  ]);
  assert.deepEqual(got.predicate.buildDefinition.resolvedDependencies, [
    { digest: { sha1: 'ab123' }, name: 'task', uri: 'git+https://github.com/test' },
    { digest: { sha256: T1 }, uri: 'oci://gcr.io/test1/test1' },
    { digest: { sha256: T2 }, uri: 'oci://gcr.io/test2/test2' },
    { digest: { sha256: T3 }, uri: 'oci://gcr.io/test3/test3' },
    { digest: { sha1: 'taskrun' }, name: 'inputs/result', uri: 'git+https://git.test.com.git' },
  ]);
  assert.deepEqual(got.predicate.buildDefinition.internalParameters, {
    'tekton-pipelines-feature-flags': { enableAPIFields: 'beta', resultExtractionMethod: 'termination-message' },
  });
  const bp = got.predicate.runDetails.byproducts;
  assert.deepEqual(
    bp.map((b: Json) => b.name),
    ['stepResults/taskrun-build/step1_result1', 'stepResults/taskrun-build/step1_result1-ARTIFACT_OUTPUTS'],
  );
  assert.equal(bp[0].content, 'InJlc3VsdC12YWx1ZSI=');
  assert.equal(
    Buffer.from(bp[1].content, 'base64').toString(),
    `{"digest":"sha256:${IMG}","uri":"gcr.io/my/image/fromstep2"}`,
  );
  assert.deepEqual(got.predicate.runDetails.metadata, {
    finishedOn: '2021-03-29T09:50:15Z',
    invocationId: 'abhhf-12354-asjsdbjs23-3435353n',
    startedOn: '2021-03-29T09:50:00Z',
  });
});

test('Vector D on Chains data: slsa-v2alpha4/pipelinerun1.json + taskrun1 + taskrun2', () => {
  const input = pipelineRun('slsa-v2alpha4/pipelinerun1.json', [
    'slsa-v2alpha4/taskrun1.json',
    'slsa-v2alpha4/taskrun2.json',
  ]);
  const got = statementOf(payloadFormat('slsa/v2alpha4').createPayload(input, config({ builderId: 'test_builder-1' })));
  assert.deepEqual(
    got.subject.map((s: Json) => s.name),
    ['abc', 'test.io/test/image', 'index.docker.io/library/abc'],
  );
  assert.ok(got.subject.every((s: Json) => s.digest.sha256 === IMG));
  assert.deepEqual(
    got.predicate.buildDefinition.resolvedDependencies.map((d: Json) => [
      d.name ?? '',
      d.uri,
      Object.values(d.digest)[0],
    ]),
    [
      ['pipeline', 'git+https://github.com/test', '28b123'],
      ['pipelineTask', 'git+https://github.com/catalog', 'x123'],
      ['', 'oci://gcr.io/test1/test1', T1],
      ['pipelineTask', 'git+https://github.com/test', 'ab123'],
      ['', 'oci://gcr.io/test2/test2', T2],
      ['', 'oci://gcr.io/test3/test3', T3],
      ['inputs/result', 'abc', IMG],
      ['inputs/result', 'git+https://git.test.com.git', 'abcd'],
    ],
  );
  assert.deepEqual(
    got.predicate.runDetails.byproducts.map((b: Json) => b.name),
    ['CHAINS-GIT_COMMIT', 'CHAINS-GIT_URL', 'img-ARTIFACT_INPUTS', 'img_no_uri-ARTIFACT_OUTPUTS'].map(
      (r) => `pipelineRunResults/pipelinerun-build/${r}`,
    ),
  );
});

test('Vector E on Chains data: in-toto pipeline-v1/pipelinerun1.json + taskrun1 + taskrun2', () => {
  const input = pipelineRun('pipeline-v1/pipelinerun1.json', [
    'pipeline-v1/taskrun1.json',
    'pipeline-v1/taskrun2.json',
  ]);
  const got = statementOf(payloadFormat('in-toto').createPayload(input, config()));
  assert.deepEqual(got.subject, [{ name: 'test.io/test/image', digest: { sha256: IMG } }]);
  const p = got.predicate;
  // the spec's list (the upstream test sorts before comparing; this is the §3.3 order)
  assert.deepEqual(
    p.materials.map((m: Json) => [m.uri, Object.values(m.digest)[0]]),
    [
      ['github.com/test', '28b123'],
      ['oci://gcr.io/test1/test1', T1],
      ['github.com/catalog', 'x123'],
      ['oci://gcr.io/test2/test2', T2],
      ['oci://gcr.io/test3/test3', T3],
      ['github.com/test', 'ab123'],
      ['abc', IMG],
      ['git+https://git.test.com.git', 'abcd'],
    ],
  );
  assert.deepEqual(p.invocation.configSource, {
    digest: { sha1: '28b123' },
    entryPoint: 'pipeline.yaml',
    uri: 'github.com/test',
  });
  assert.deepEqual(p.invocation.parameters, { IMAGE: 'test.io/test/image' });
  const tasks = p.buildConfig.tasks;
  assert.deepEqual(
    tasks.map((t: Json) => t.name),
    ['git-clone', 'build'],
  );
  assert.deepEqual(tasks[1].after, ['git-clone']);
  assert.equal(tasks[1].serviceAccountName, 'pipeline');
  assert.equal(tasks[1].ref.kind, 'ClusterTask');
});

test('Chains data: a second TaskRun for the same pipeline task is listed too (§8.1 taskrun3)', () => {
  // taskrun3 is a second TaskRun for pipeline task `build`: both are listed, in child order
  const input = pipelineRun('pipeline-v1/pipelinerun1.json', [
    'pipeline-v1/taskrun1.json',
    'pipeline-v1/taskrun2.json',
    'pipeline-v1/taskrun3.json',
  ]);
  const tasks = statementOf(payloadFormat('in-toto').createPayload(input, config())).predicate.buildConfig.tasks;
  assert.deepEqual(
    tasks.map((t: Json) => t.name),
    ['git-clone', 'build', 'build'],
  );
  assert.ok(tasks[2].steps.some((s: Json) => /test4/.test(s.environment.image)));
});

// Chains' own expectations, transcribed from tektoncd/chains pkg/chains/formats/slsa/v1/intotoite6_test.go
// (TestTaskRunCreatePayload1, getBuildPipelineRun); keys as the predicate Struct carries them.
const START = '2021-03-29T09:50:00Z';
const END = '2021-03-29T09:50:15Z';
const step = (container: string, image: string, entryPoint = '') => ({
  annotations: null,
  arguments: null,
  entryPoint,
  environment: { container, image },
});
const STEP1 = step('step1', `oci://gcr.io/test1/test1@sha256:${T1}`);
const STEP2 = step('step2', `oci://gcr.io/test2/test2@sha256:${T2}`);
const STEP3 = step('step3', `oci://gcr.io/test3/test3@sha256:${T3}`);
const BUILD_INVOCATION = {
  configSource: { digest: { sha1: 'ab123' }, entryPoint: 'build.yaml', uri: 'github.com/test' },
  environment: { labels: { 'tekton.dev/pipelineTask': 'build' } },
  parameters: {
    'CHAINS-GIT_COMMIT': 'sha:taskrun',
    'CHAINS-GIT_URL': 'https://git.test.com',
    IMAGE: 'test.io/test/image',
  },
};
const METADATA = {
  buildFinishedOn: END,
  buildStartedOn: START,
  completeness: { environment: false, materials: false, parameters: false },
  reproducible: false,
};

test('Chains TestTaskRunCreatePayload1 (in-toto, pipeline-v1/taskrun1.json): the whole statement', () => {
  const got = statementOf(
    payloadFormat('in-toto').createPayload(
      { kind: 'TaskRun', run: run<TaskRun>('pipeline-v1/taskrun1.json') },
      config({ builderId: 'test_builder-1' }),
    ),
  );
  assert.deepEqual(got, {
    _type: 'https://in-toto.io/Statement/v0.1',
    subject: [{ name: 'gcr.io/my/image', digest: { sha256: IMG } }],
    predicateType: 'https://slsa.dev/provenance/v0.2',
    predicate: {
      buildConfig: { steps: [STEP1, STEP2, STEP3] },
      buildType: 'tekton.dev/v1/TaskRun',
      builder: { id: 'test_builder-1' },
      invocation: BUILD_INVOCATION,
      materials: [
        { digest: { sha256: T1 }, uri: 'oci://gcr.io/test1/test1' },
        { digest: { sha256: T2 }, uri: 'oci://gcr.io/test2/test2' },
        { digest: { sha256: T3 }, uri: 'oci://gcr.io/test3/test3' },
        { digest: { sha1: 'sha:taskrun' }, uri: 'git+https://git.test.com.git' },
      ],
      metadata: METADATA,
    },
  });
});

test('Chains TestPipelineRunCreatePayload (in-toto): buildConfig.tasks exactly as getBuildPipelineRun', () => {
  const input = pipelineRun('pipeline-v1/pipelinerun1.json', [
    'pipeline-v1/taskrun1.json',
    'pipeline-v1/taskrun2.json',
  ]);
  const got = statementOf(payloadFormat('in-toto').createPayload(input, config({ builderId: 'test_builder-1' })));
  assert.deepEqual(got.predicate.buildConfig, {
    tasks: [
      {
        finishedOn: END,
        invocation: {
          configSource: { digest: { sha1: 'x123' }, entryPoint: 'git-clone.yaml', uri: 'github.com/catalog' },
          environment: { labels: { 'tekton.dev/pipelineTask': 'git-clone' } },
          parameters: {
            'CHAINS-GIT_COMMIT': 'sha:taskdefault',
            'CHAINS-GIT_URL': 'https://git.test.com',
            revision: '',
            url: 'https://git.test.com',
          },
        },
        name: 'git-clone',
        ref: { kind: 'ClusterTask', name: 'git-clone' },
        results: [
          { name: 'some-uri_DIGEST', value: `sha256:${T1}` },
          { name: 'some-uri', value: 'pkg:deb/debian/curl@7.50.3-1' },
        ],
        serviceAccountName: 'pipeline',
        startedOn: START,
        status: 'Succeeded',
        steps: [step('step1', `oci://gcr.io/test1/test1@sha256:${T1}`, 'git clone')],
      },
      {
        after: ['git-clone'],
        finishedOn: END,
        invocation: BUILD_INVOCATION,
        name: 'build',
        ref: { kind: 'ClusterTask', name: 'build' },
        results: [
          { name: 'IMAGE_DIGEST', value: `sha256:${IMG}` },
          { name: 'IMAGE_URL', value: 'gcr.io/my/image' },
        ],
        serviceAccountName: 'pipeline',
        startedOn: START,
        status: 'Succeeded',
        steps: [STEP1, STEP2, STEP3],
      },
    ],
  });
  assert.deepEqual(got.predicate.metadata, METADATA);
  assert.deepEqual(got.predicate.builder, { id: 'test_builder-1' });
});

// Chains' expectations from pkg/chains/formats/slsa/v2alpha4/internal/pipelinerun/pipelinerun_test.go (TestGenerateAttestation).
const PIPELINE_DEPS = [
  ['pipeline', 'git+https://github.com/test', { sha1: '28b123' }],
  ['pipelineTask', 'git+https://github.com/catalog', { sha1: 'x123' }],
  ['', 'oci://gcr.io/test1/test1', { sha256: T1 }],
  ['pipelineTask', 'git+https://github.com/test', { sha1: 'ab123' }],
  ['', 'oci://gcr.io/test2/test2', { sha256: T2 }],
  ['', 'oci://gcr.io/test3/test3', { sha256: T3 }],
  ['inputs/result', 'https://github.com/tektoncd/pipeline', { sha1: '7f2f46e1b97df36b2b82d1b1d87c81b8b3d21601' }],
  ['inputs/result', 'abc', { sha256: IMG }],
];
const BYPRODUCTS = [
  ['pipelineRunResults/pipelinerun-build/CHAINS-GIT_COMMIT', '"abcd"'],
  ['pipelineRunResults/pipelinerun-build/CHAINS-GIT_URL', '"https://git.test.com"'],
  ['pipelineRunResults/pipelinerun-build/img-ARTIFACT_INPUTS', `{"digest":"sha256:${IMG}","uri":"abc"}`],
  ['pipelineRunResults/pipelinerun-build/img_no_uri-ARTIFACT_OUTPUTS', `{"digest":"sha256:${IMG}"}`],
  ['taskRunResults/git-clone/some-uri_DIGEST', `"sha256:${T1}"`],
  ['taskRunResults/git-clone/some-uri', '"pkg:deb/debian/curl@7.50.3-1"'],
  [
    'stepResults/git-clone/step1_result1-ARTIFACT_INPUTS',
    '{"digest":"sha1:7f2f46e1b97df36b2b82d1b1d87c81b8b3d21601","uri":"https://github.com/tektoncd/pipeline"}',
  ],
  ['stepResults/taskrun-build/step1_result1', '"result-value"'],
];

function v2alpha4Deep(pr: string, children: string[]): Json {
  return statementOf(
    payloadFormat('slsa/v2alpha4').createPayload(
      pipelineRun(pr, children),
      config({ builderId: 'test_builder-1', deepInspection: true }),
    ),
  );
}
const deps = (s: Json) =>
  s.predicate.buildDefinition.resolvedDependencies.map((d: Json) => [d.name ?? '', d.uri, d.digest]);
const byproducts = (s: Json) =>
  s.predicate.runDetails.byproducts.map((b: Json) => [b.name, Buffer.from(b.content, 'base64').toString()]);

test('Chains v2alpha4 "attestation with deepinspection" (pipelinerun1 + taskrun1 + taskrun2)', () => {
  const got = v2alpha4Deep('slsa-v2alpha4/pipelinerun1.json', [
    'slsa-v2alpha4/taskrun1.json',
    'slsa-v2alpha4/taskrun2.json',
  ]);
  assert.deepEqual(
    got.subject.map((s: Json) => [s.name, s.digest.sha256]),
    [
      ['abc', IMG],
      ['test.io/test/image', IMG],
      ['index.docker.io/library/abc', IMG],
      ['gcr.io/my/image/fromstep3', IMG],
      ['gcr.io/my/image', IMG4],
    ],
  );
  assert.deepEqual(deps(got), [
    ...PIPELINE_DEPS,
    ['inputs/result', 'git+https://git.test.com.git', { sha1: 'sha:taskdefault' }],
    ['inputs/result', 'git+https://git.test.com.git', { sha1: 'taskrun' }],
    ['inputs/result', 'git+https://git.test.com.git', { sha1: 'abcd' }],
  ]);
  assert.deepEqual(byproducts(got), [
    ...BYPRODUCTS,
    [
      'stepResults/taskrun-build/step1_result1-ARTIFACT_OUTPUTS',
      `{"digest":"sha256:${IMG}","uri":"gcr.io/my/image/fromstep2"}`,
    ],
  ]);
  assert.deepEqual(got.predicate.runDetails.metadata, {
    finishedOn: END,
    invocationId: 'abhhf-12354-asjsdbjs23-3435353n',
    startedOn: START,
  });
  assert.deepEqual(got.predicate.buildDefinition.internalParameters, {});
});

test('Chains v2alpha4 "attestation with no repeated subjects" (pipelinerun2 + taskrun3 + taskrun4)', () => {
  const got = v2alpha4Deep('slsa-v2alpha4/pipelinerun2.json', [
    'slsa-v2alpha4/taskrun3.json',
    'slsa-v2alpha4/taskrun4.json',
  ]);
  assert.deepEqual(
    got.subject.map((s: Json) => [s.name, s.digest.sha256]),
    [
      ['abc', IMG],
      ['gcr.io/common/image', '33e7e52645f4859622e282167d9200da9861b3d0a6e9c93b85e9cae5526ffc0a'],
      ['test.io/test/image', IMG],
      ['index.docker.io/library/abc', IMG],
      ['gcr.io/task2/step/artifact', 'cb06e289303c9529cd980657a5b1a2c8a146c1b13ca08a2bbedb72ec4b7573b9'],
      ['gcr.io/my/image/fromstep3', IMG],
      ['gcr.io/my/image', IMG4],
      ['gcr.io/task1/result', 'c6262181543796435ae52eb233d7337ec570ff0448e333460122f4a65a59a96a'],
    ],
  );
  assert.deepEqual(deps(got), [
    ...PIPELINE_DEPS,
    ['inputs/result', 'git+https://git.test.com.git', { sha1: 'taskrun' }],
    ['inputs/result', 'git+https://git.test.com.git', { sha1: 'abcd' }],
  ]);
  assert.deepEqual(byproducts(got), BYPRODUCTS);
});
