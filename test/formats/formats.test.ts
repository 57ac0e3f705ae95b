// Every format for TaskRuns and PipelineRuns, deep inspection, build types, and the deliberate
// QUIRK decisions of spec §3 (docs/compatibility.md, "Payload formats").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { payloadFormat, RUN_FORMATS } from '../../src/formats/index.js';
import { ChainsmithError } from '../../src/errors.js';
import type { FormatInput } from '../../src/formats/types.js';
import type { PipelineRun, TaskRun } from '../../src/tekton/types.js';
import {
  config,
  fixture,
  IMG,
  IMG4,
  pipelineRunInput,
  statementOf,
  T1,
  T2,
  T3,
  taskRunInput,
  unbase64,
  type Json,
} from './helpers.js';

const BUILDAH_APP = '4a1c4b21597c1b4415bdbecb28a3296c6b5e23ca4f9feeb599860a1dac6a0108';
const TEKTON = 'https://tekton.dev/chains/v2/slsa-tekton' as const;
const failsWith = (reason: string) => (e: unknown) => e instanceof ChainsmithError && e.reason === reason;

test('in-toto TaskRun: SLSA v0.2 shape, params with task defaults overlaid, images and git as materials', () => {
  const got = statementOf(
    payloadFormat('in-toto').createPayload(
      taskRunInput('buildah-taskrun.json'),
      config({ builderId: 'https://example.com/b' }),
    ),
  );
  assert.equal(got._type, 'https://in-toto.io/Statement/v0.1');
  assert.equal(got.predicateType, 'https://slsa.dev/provenance/v0.2');
  // tag stripped, Docker Hub normalised, value whitespace trimmed
  assert.deepEqual(got.subject, [{ name: 'index.docker.io/example/app', digest: { sha256: BUILDAH_APP } }]);
  const p = got.predicate;
  assert.deepEqual(p.builder, { id: 'https://example.com/b' });
  assert.equal(p.buildType, 'tekton.dev/v1/TaskRun');
  assert.deepEqual(p.invocation.parameters, {
    BUILDER_IMAGE: 'quay.io/buildah/stable:v1',
    BUILD_EXTRA_ARGS: '',
    'CHAINS-GIT_COMMIT': '9f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6',
    'CHAINS-GIT_URL': 'https://github.com/example/app',
    CONTEXT: '.',
    DOCKERFILE: './build/Dockerfile',
    FORMAT: 'oci',
    IMAGE: 'docker.io/example/app:1.4.2',
    PUSH_EXTRA_ARGS: [],
    SKIP_PUSH: 'false',
    STORAGE_DRIVER: 'overlay',
    TLSVERIFY: 'true',
  });
  assert.deepEqual(p.invocation.configSource, {});
  assert.deepEqual(p.invocation.environment, {
    annotations: { 'pipeline.tekton.dev/release': 'v1.15.0' },
    labels: {
      'app.kubernetes.io/managed-by': 'tekton-pipelines',
      'tekton.dev/task': 'buildah',
      'tekton.dev/taskRun': 'buildah-run-x7k2p',
    },
  });
  assert.deepEqual(p.materials, [
    {
      digest: { sha256: 'a5d68fdbd4e5b1ac07ff4d7db0a5ad5d24b2a8a9c8c5e0a4c2c3d40e1c0a2f11' },
      uri: 'oci://quay.io/buildah/stable',
    },
    {
      digest: { sha256: '0f3b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b' },
      uri: 'oci://ghcr.io/example/registry-proxy',
    },
    { digest: { sha1: '9f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6' }, uri: 'git+https://github.com/example/app.git' },
  ]);
  assert.equal(p.buildConfig.steps.length, 1);
  assert.equal(
    p.buildConfig.steps[0].entryPoint.split('\n')[0],
    'buildah --storage-driver=$(params.STORAGE_DRIVER) bud --format=$(params.FORMAT) --tls-verify=$(params.TLSVERIFY) -f $(params.DOCKERFILE) -t $(params.IMAGE) $(params.CONTEXT)',
  );
  assert.deepEqual(p.buildConfig.steps[0].environment, {
    container: 'build-and-push',
    image: 'oci://quay.io/buildah/stable@sha256:a5d68fdbd4e5b1ac07ff4d7db0a5ad5d24b2a8a9c8c5e0a4c2c3d40e1c0a2f11',
  });
  assert.equal(p.buildConfig.steps[0].arguments, null);
  assert.equal(p.buildConfig.steps[0].annotations, null);
  assert.deepEqual(p.metadata, {
    buildFinishedOn: '2026-11-20T10:16:41Z',
    buildStartedOn: '2026-11-20T10:14:55Z',
    completeness: { environment: false, materials: false, parameters: false },
    reproducible: false,
  });
});

test('slsa/v1 is in-toto under another name: identical bytes', () => {
  const a = payloadFormat('in-toto').createPayload(taskRunInput('buildah-taskrun.json'), config());
  const b = payloadFormat('slsa/v1').createPayload(taskRunInput('buildah-taskrun.json'), config());
  assert.ok(a.bytes.equals(b.bytes));
  assert.equal(payloadFormat('slsa/v1').name, 'slsa/v1');
});

test('in-toto TaskRun: step command joined by spaces and args kept when there is no script', () => {
  const got = statementOf(payloadFormat('in-toto').createPayload(taskRunInput('v2alpha3-taskrun1.json'), config()));
  assert.deepEqual(got.predicate.buildConfig.steps[1], {
    annotations: null,
    arguments: ['-o', 'app', './...'],
    entryPoint: 'go build',
    environment: { container: 'step2', image: `oci://gcr.io/test2/test2@sha256:${T2}` },
  });
  assert.deepEqual(got.predicate.invocation.configSource, {
    digest: { sha1: 'ab123' },
    entryPoint: 'build.yaml',
    uri: 'git+https://github.com/test',
  });
});

test('the reproducible label sets metadata.reproducible', () => {
  const tr = fixture<TaskRun>('buildah-taskrun.json');
  tr.metadata.labels!['chains.tekton.dev/reproducible'] = 'true';
  const got = statementOf(payloadFormat('in-toto').createPayload({ kind: 'TaskRun', run: tr }, config()));
  assert.equal(got.predicate.metadata.reproducible, true);
});

test('slsa/v2alpha3 PipelineRun: row-1 subjects, every result a byproduct, children as pipelineTask', () => {
  const input = pipelineRunInput('v2alpha4-pipelinerun1.json', ['v2alpha4-taskrun1.json', 'v2alpha4-taskrun2.json']);
  const got = statementOf(payloadFormat('slsa/v2alpha3').createPayload(input, config()));
  // OCI passes (IMAGE_URL pair, then build-artifact uri normalised), then structured outputs verbatim
  assert.deepEqual(got.subject, [
    { name: 'test.io/test/image', digest: { sha256: IMG } },
    { name: 'index.docker.io/library/abc', digest: { sha256: IMG } },
    { name: 'abc', digest: { sha256: IMG } },
  ]);
  const results = fixture<PipelineRun>('v2alpha4-pipelinerun1.json').status!.results!;
  assert.deepEqual(
    got.predicate.runDetails.byproducts.map((b: Json) => b.name),
    results.map((r) => `pipelineRunResults/${r.name}`),
  );
  const inputs = got.predicate.runDetails.byproducts.find(
    (b: Json) => b.name === 'pipelineRunResults/img-ARTIFACT_INPUTS',
  );
  assert.equal(unbase64(inputs.content), `{"digest":"sha256:${IMG}","uri":"abc"}`);
  assert.deepEqual(
    got.predicate.buildDefinition.resolvedDependencies.map((d: Json) => [d.name ?? '', d.uri]),
    [
      ['pipeline', 'git+https://github.com/test'],
      ['pipelineTask', 'git+https://github.com/catalog'],
      ['', 'oci://gcr.io/test1/test1'],
      ['pipelineTask', 'git+https://github.com/test'],
      ['', 'oci://gcr.io/test2/test2'],
      ['', 'oci://gcr.io/test3/test3'],
      ['inputs/result', 'abc'],
      ['inputs/result', 'git+https://git.test.com.git'],
    ],
  );
  assert.deepEqual(got.predicate.buildDefinition.externalParameters, {
    runSpec: {
      params: [{ name: 'IMAGE', value: 'test.io/test/image' }],
      pipelineRef: { name: 'test-pipeline' },
      taskRunTemplate: { serviceAccountName: 'pipeline' },
    },
  });
  assert.deepEqual(got.predicate.buildDefinition.internalParameters, {});
  assert.deepEqual(got.predicate.runDetails.metadata, {
    finishedOn: '2021-03-29T09:50:15Z',
    invocationId: 'abhhf-12354-asjsdbjs23-pipelinerun',
    startedOn: '2021-03-29T09:50:00Z',
  });
});

test('slsa/v2alpha4 PipelineRun with deep inspection: child subjects, byproducts and inputs appended', () => {
  const input = pipelineRunInput('v2alpha4-pipelinerun1.json', ['v2alpha4-taskrun1.json', 'v2alpha4-taskrun2.json']);
  const got = statementOf(payloadFormat('slsa/v2alpha4').createPayload(input, config({ deepInspection: true })));
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
  assert.deepEqual(
    got.predicate.runDetails.byproducts.map((b: Json) => b.name),
    [
      'pipelineRunResults/pipelinerun-build/CHAINS-GIT_COMMIT',
      'pipelineRunResults/pipelinerun-build/CHAINS-GIT_URL',
      'pipelineRunResults/pipelinerun-build/img-ARTIFACT_INPUTS',
      'pipelineRunResults/pipelinerun-build/img_no_uri-ARTIFACT_OUTPUTS',
      // git-clone runs first: it is first in pipelineSpec.tasks, whatever the child list order
      'taskRunResults/git-clone/some-uri_DIGEST',
      'taskRunResults/git-clone/some-uri',
      'stepResults/git-clone/step1_result1-ARTIFACT_INPUTS',
      'stepResults/taskrun-build/step1_result1',
      'stepResults/taskrun-build/step1_result1-ARTIFACT_OUTPUTS',
    ],
  );
  assert.deepEqual(
    got.predicate.buildDefinition.resolvedDependencies
      .filter((d: Json) => d.name === 'inputs/result')
      .map((d: Json) => [d.uri, d.digest]),
    [
      ['https://github.com/tektoncd/pipeline', { sha1: '7f2f46e1b97df36b2b82d1b1d9c7cb60b2ca1601' }],
      ['abc', { sha256: IMG }],
      ['git+https://git.test.com.git', { sha1: 'sha:taskdefault' }],
      ['git+https://git.test.com.git', { sha1: 'taskrun' }],
      ['git+https://git.test.com.git', { sha1: 'abcd' }],
    ],
  );
});

test('in-toto PipelineRun with deep inspection: child subjects first, child git before the pipeline git', () => {
  const input = pipelineRunInput('pipeline-v1-pipelinerun1.json', [
    'pipeline-v1-taskrun1.json',
    'pipeline-v1-taskrun2.json',
  ]);
  const got = statementOf(payloadFormat('in-toto').createPayload(input, config({ deepInspection: true })));
  assert.deepEqual(got.subject, [
    { name: 'gcr.io/my/image', digest: { sha256: IMG } },
    { name: 'test.io/test/image', digest: { sha256: IMG } },
  ]);
  assert.deepEqual(got.predicate.materials.slice(-4), [
    { digest: { sha256: IMG }, uri: 'abc' },
    { digest: { sha1: 'sha:taskdefault' }, uri: 'git+https://git.test.com.git' },
    { digest: { sha1: 'sha:taskrun' }, uri: 'git+https://git.test.com.git' },
    { digest: { sha1: 'abcd' }, uri: 'git+https://git.test.com.git' },
  ]);
});

test('slsa-tekton build type: full labels/annotations and each child TaskRun as pipelineTask content', () => {
  const input = pipelineRunInput('pipeline-v1-pipelinerun1.json', [
    'pipeline-v1-taskrun1.json',
    'pipeline-v1-taskrun2.json',
  ]);
  const got = statementOf(payloadFormat('slsa/v2alpha3').createPayload(input, config({ buildType: TEKTON })));
  assert.equal(got.predicate.buildDefinition.buildType, TEKTON);
  assert.deepEqual(got.predicate.buildDefinition.internalParameters, {
    annotations: {
      'chains.tekton.dev/signed': 'true',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      team: 'build',
    },
    labels: { app: 'chains' },
  });
  const tasks = got.predicate.buildDefinition.resolvedDependencies.filter((d: Json) => d.name === 'pipelineTask');
  assert.equal(tasks.length, 2);
  const child = JSON.parse(unbase64(tasks[0].content));
  assert.equal(child.metadata.name, 'git-clone');
  assert.equal(tasks[0].uri, 'github.com/catalog');
  assert.deepEqual(tasks[0].digest, { sha1: 'x123' });

  const tr = statementOf(
    payloadFormat('slsa/v2alpha4').createPayload(taskRunInput('v2alpha3-taskrun1.json'), config({ buildType: TEKTON })),
  );
  assert.deepEqual(tr.predicate.buildDefinition.internalParameters, {
    annotations: null,
    labels: { 'tekton.dev/pipelineTask': 'build' },
    'tekton-pipelines-feature-flags': { enableAPIFields: 'beta', resultExtractionMethod: 'termination-message' },
  });
});

test('remote runs get buildConfigSource; Cluster-resolved and local ones do not', () => {
  const tr = fixture<TaskRun>('v2alpha3-taskrun1.json');
  tr.spec.taskRef = { resolver: 'git', params: [{ name: 'url', value: 'https://github.com/tektoncd/catalog.git' }] };
  tr.status!.provenance!.refSource = {
    uri: 'git+https://github.com/tektoncd/catalog.git',
    digest: { sha1: '4df486f1b1b7e1ab1b7e1ab1b7e1ab1b7e1ab5a1' },
    entryPoint: 'task/git-clone/0.9/git-clone.yaml',
  };
  const got = statementOf(payloadFormat('slsa/v2alpha3').createPayload({ kind: 'TaskRun', run: tr }, config()));
  assert.deepEqual(got.predicate.buildDefinition.externalParameters.buildConfigSource, {
    path: 'task/git-clone/0.9/git-clone.yaml',
    ref: 'sha1:4df486f1b1b7e1ab1b7e1ab1b7e1ab1b7e1ab5a1',
    repository: 'git+https://github.com/tektoncd/catalog.git',
  });
  tr.spec.taskRef = { resolver: 'Cluster' };
  const cluster = statementOf(payloadFormat('slsa/v2alpha3').createPayload({ kind: 'TaskRun', run: tr }, config()));
  assert.equal(cluster.predicate.buildDefinition.externalParameters.buildConfigSource, undefined);
  const local = statementOf(
    payloadFormat('slsa/v2alpha3').createPayload(taskRunInput('v2alpha3-taskrun1.json'), config()),
  );
  assert.equal(local.predicate.buildDefinition.externalParameters.buildConfigSource, undefined);
});

test('v2alpha4 TaskRun: remote StepActions are kept as stepAction/<step> even when repeated', () => {
  const tr = fixture<TaskRun>('v2alpha4-taskrun1.json');
  const ref = { uri: 'git+https://github.com/test', digest: { sha1: 'ab123' }, entryPoint: 'step.yaml' };
  tr.status!.steps![0]!.provenance = { refSource: ref };
  const got = statementOf(payloadFormat('slsa/v2alpha4').createPayload({ kind: 'TaskRun', run: tr }, config()));
  const names = got.predicate.buildDefinition.resolvedDependencies.map((d: Json) => d.name ?? '');
  // same uri+digest as the `task` entry, but never de-duplicated
  assert.deepEqual(names, ['task', '', '', '', 'stepAction/step1', 'inputs/result']);
});

test('a run without subjects has no `subject` member at all', () => {
  const tr = fixture<TaskRun>('v2alpha3-taskrun1.json');
  tr.status!.results = [];
  for (const format of RUN_FORMATS) {
    const p = payloadFormat(format).createPayload({ kind: 'TaskRun', run: tr }, config());
    assert.equal(statementOf(p).subject, undefined, format);
    assert.ok(!p.bytes.toString().includes('"subject"'), format);
    assert.deepEqual(p.subjects, []);
  }
});

test('buildConfig.tasks: result references and finally tasks give `after`; unpairable TaskRuns are skipped', () => {
  const pr = fixture<PipelineRun>('pipeline-v1-pipelinerun1.json');
  const base = fixture<TaskRun>('pipeline-v1-taskrun2.json');
  const child = (name: string, task: string): TaskRun => {
    const tr = structuredClone(base);
    tr.metadata.name = name;
    tr.metadata.labels = { 'tekton.dev/pipelineTask': task };
    return tr;
  };
  pr.status!.pipelineSpec = {
    tasks: [
      { name: 'fetch', taskRef: { name: 'git-clone' } },
      {
        name: 'test',
        params: [{ name: 'rev', value: 'at $(tasks.fetch.results.commit) and $(tasks.lint.results.report[*])' }],
      },
      { name: 'lint', when: [{ input: '$(tasks.fetch.results.changed)', operator: 'in', values: ['true'] }] },
      { name: 'never-ran' },
    ],
    finally: [{ name: 'notify' }],
  };
  const skipped = child('bad-steps', 'lint');
  skipped.status!.steps = [...skipped.status!.steps!, ...skipped.status!.steps!]; // 2 status steps vs 1 spec step
  const unnamed = child('unnamed', 'lint');
  unnamed.status!.steps![0]!.name = 'unnamed-0';
  const incomplete = child('still-running', 'never-ran');
  delete incomplete.status!.completionTime;
  const input: FormatInput = {
    kind: 'PipelineRun',
    run: {
      run: pr,
      children: [
        child('c-fetch', 'fetch'),
        child('c-test', 'test'),
        skipped,
        unnamed,
        child('c-lint', 'lint'),
        incomplete,
        child('c-notify', 'notify'),
      ],
    },
  };
  const tasks = statementOf(payloadFormat('in-toto').createPayload(input, config())).predicate.buildConfig.tasks;
  assert.deepEqual(
    tasks.map((t: Json) => [t.name, t.after]),
    [
      ['fetch', undefined],
      ['test', ['fetch', 'lint']],
      ['lint', ['fetch']],
      // `never-ran` has a TaskRun (not completed), so it is the last regular task a finally task follows
      ['notify', ['never-ran']],
    ],
  );
  assert.deepEqual(tasks[0].ref, { name: 'git-clone' });
  assert.deepEqual(tasks[1].ref, {});
});

test('buildConfig.tasks is null without status.pipelineSpec', () => {
  const pr = fixture<PipelineRun>('pipeline-v1-pipelinerun1.json');
  delete pr.status!.pipelineSpec;
  const got = statementOf(
    payloadFormat('in-toto').createPayload({ kind: 'PipelineRun', run: { run: pr, children: [] } }, config()),
  );
  assert.equal(got.predicate.buildConfig.tasks, null);
  assert.ok(Object.hasOwn(got.predicate.buildConfig, 'tasks'));
});

test('a malformed step imageID fails the payload with PayloadFailed, like Chains', () => {
  const tr = fixture<TaskRun>('buildah-taskrun.json');
  tr.status!.steps![0]!.imageID = 'quay.io/buildah/stable:v1';
  for (const format of RUN_FORMATS) {
    assert.throws(
      () => payloadFormat(format).createPayload({ kind: 'TaskRun', run: tr }, config()),
      failsWith('PayloadFailed'),
      format,
    );
  }
});

test('an unknown builddefinition.buildtype fails the v1.0 payloads', () => {
  const c = config();
  (c.buildDefinition as { buildType: string }).buildType = 'https://example.com/other';
  assert.throws(
    () => payloadFormat('slsa/v2alpha4').createPayload(taskRunInput('v2alpha3-taskrun1.json'), c),
    failsWith('PayloadFailed'),
  );
});

test('formats reject inputs they do not describe; unknown names are rejected', () => {
  assert.throws(
    () => payloadFormat('simplesigning').createPayload(taskRunInput('v2alpha3-taskrun1.json'), config()),
    failsWith('PayloadFailed'),
  );
  const image: FormatInput = {
    kind: 'Image',
    image: { repository: 'gcr.io/a/b', digest: `sha256:${IMG}`, source: 'IMAGES' },
  };
  for (const format of RUN_FORMATS)
    assert.throws(() => payloadFormat(format).createPayload(image, config()), failsWith('PayloadFailed'));
  assert.throws(() => payloadFormat('tekton' as 'in-toto'), failsWith('InvalidConfig'));
});

test('simplesigning subjects name the image; Docker Hub references come out normalised', () => {
  const p = payloadFormat('simplesigning').createPayload(
    {
      kind: 'Image',
      image: { repository: 'index.docker.io/library/ubuntu', digest: `sha256:${IMG}`, source: 'IMAGES' },
    },
    config(),
  );
  assert.deepEqual(p.subjects, [{ name: 'index.docker.io/library/ubuntu', digest: { sha256: IMG } }]);
  assert.equal(JSON.parse(p.bytes.toString()).critical.identity['docker-reference'], 'index.docker.io/library/ubuntu');
});

test('payload creation never modifies its input', () => {
  const input = pipelineRunInput('v2alpha4-pipelinerun1.json', ['v2alpha4-taskrun1.json', 'v2alpha4-taskrun2.json']);
  const before = structuredClone(input);
  for (const format of RUN_FORMATS)
    payloadFormat(format).createPayload(input, config({ deepInspection: true, buildType: TEKTON }));
  assert.deepEqual(input, before);
});

// ---- determinism -----------------------------------------------------------------------------

/** The same value with every object's keys in reverse order (a different but equal input). */
function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .reverse()
        .map(([k, x]) => [k, reverseKeys(x)]),
    );
  }
  return v;
}

test('same input → byte-identical output, for every format and kind, whatever the input key order', () => {
  const inputs: Array<[string, () => FormatInput]> = [
    ['TaskRun', () => taskRunInput('buildah-taskrun.json')],
    ['TaskRun v2alpha4', () => taskRunInput('v2alpha4-taskrun1.json')],
    [
      'PipelineRun',
      () => pipelineRunInput('v2alpha4-pipelinerun1.json', ['v2alpha4-taskrun1.json', 'v2alpha4-taskrun2.json']),
    ],
  ];
  for (const [label, make] of inputs) {
    for (const format of RUN_FORMATS) {
      for (const opts of [{}, { deepInspection: true, buildType: TEKTON }]) {
        const first = payloadFormat(format).createPayload(make(), config(opts)).bytes;
        const again = payloadFormat(format).createPayload(make(), config(opts)).bytes;
        const shuffled = payloadFormat(format).createPayload(reverseKeys(make()) as FormatInput, config(opts)).bytes;
        assert.ok(first.equals(again), `${label} ${format} repeated`);
        assert.ok(first.equals(shuffled), `${label} ${format} reordered input`);
      }
    }
  }
});

test('step image digests and times come straight from the run (sanity on test fixtures)', () => {
  const got = statementOf(
    payloadFormat('slsa/v2alpha4').createPayload(taskRunInput('v2alpha4-taskrun1.json'), config()),
  );
  const images = got.predicate.buildDefinition.resolvedDependencies
    .filter((d: Json) => !d.name)
    .map((d: Json) => d.digest.sha256);
  assert.deepEqual(images, [T1, T2, T3]);
});

test("feature flags: names folded to Tekton's JSON names, omitempty zero values dropped, unknown flags kept", () => {
  const tr = fixture<TaskRun>('v2alpha3-taskrun1.json');
  tr.status!.provenance!.featureFlags = {
    EnableAPIFields: 'alpha',
    awaitSidecarReadiness: false,
    MAXRESULTSIZE: 4096,
    enforceNonfalsifiability: '',
    enableTektonOCIBundles: false,
    enableSomethingNewer: 'yes',
  };
  const got = statementOf(payloadFormat('slsa/v2alpha3').createPayload({ kind: 'TaskRun', run: tr }, config()));
  assert.deepEqual(got.predicate.buildDefinition.internalParameters['tekton-pipelines-feature-flags'], {
    enableAPIFields: 'alpha',
    enableSomethingNewer: 'yes',
    enableTektonOCIBundles: false, // a *bool: only nil is omitted
    maxResultSize: 4096,
  });
});
