// The worked conformance vectors of spec chains-behaviour.md §8.2, rebuilt as fixtures in
// test/fixtures/formats/. Expected values are the spec's own (quoted in comments), not our output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { payloadFormat } from '../../src/formats/index.js';
import {
  config,
  fixture,
  fixtureText,
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

/** The resolved dependencies the spec gives for the TaskRun of vectors B and C (task, three step images, the git input). */
const TASKRUN_DEPENDENCIES = [
  { digest: { sha1: 'ab123' }, name: 'task', uri: 'git+https://github.com/test' },
  { digest: { sha256: T1 }, uri: 'oci://gcr.io/test1/test1' },
  { digest: { sha256: T2 }, uri: 'oci://gcr.io/test2/test2' },
  { digest: { sha256: T3 }, uri: 'oci://gcr.io/test3/test3' },
  { digest: { sha1: 'taskrun' }, name: 'inputs/result', uri: 'git+https://git.test.com.git' },
];

test('Vector A: simplesigning for gcr.io/foo/bar@sha256:20ab… is exactly the JSON of §3.1', () => {
  const payload = payloadFormat('simplesigning').createPayload(
    {
      kind: 'Image',
      image: {
        repository: 'gcr.io/foo/bar',
        digest: 'sha256:20ab676d319c93ef5b4bef9290ed913ed8feaa0c92c43a7cddc28a3697918b92',
        source: 'IMAGES',
      },
    },
    config(),
  );
  assert.equal(payload.kind, 'simplesigning');
  assert.equal(payload.predicateType, undefined);
  // byte-for-byte: the spec quotes the exact bytes cosign produces
  assert.equal(payload.bytes.toString('utf8'), fixtureText('vector-a-simplesigning.expected.json'));
});

test('Vector B: slsa/v2alpha3 TaskRun matches §3.7 field by field, and byte for byte in wire order', () => {
  const expected: Json = fixture('vector-b-v2alpha3-taskrun1.expected.json');
  const payload = payloadFormat('slsa/v2alpha3').createPayload(
    taskRunInput('v2alpha3-taskrun1.json'),
    config({ builderId: 'test_builder-1' }),
  );
  const got = statementOf(payload);

  assert.equal(got._type, 'https://in-toto.io/Statement/v1');
  assert.equal(got.predicateType, 'https://slsa.dev/provenance/v1');
  assert.deepEqual(got.subject, [{ name: 'gcr.io/my/image', digest: { sha256: IMG } }]);
  const bd = got.predicate.buildDefinition;
  assert.equal(bd.buildType, 'https://tekton.dev/chains/v2/slsa');
  assert.deepEqual(bd.externalParameters, expected.predicate.buildDefinition.externalParameters);
  assert.deepEqual(bd.internalParameters, {
    'tekton-pipelines-feature-flags': { enableAPIFields: 'beta', resultExtractionMethod: 'termination-message' },
  });
  // the CHAINS-GIT_COMMIT default `task` is overridden by the TaskRun param `taskrun`
  assert.deepEqual(bd.resolvedDependencies, TASKRUN_DEPENDENCIES);
  const rd = got.predicate.runDetails;
  assert.deepEqual(rd.builder, { id: 'test_builder-1' });
  assert.deepEqual(
    rd.byproducts.map((b: Json) => [b.name, b.mediaType, unbase64(b.content)]),
    [
      ['taskRunResults/IMAGE_DIGEST', 'application/json', `"sha256:${IMG}"`],
      ['taskRunResults/IMAGE_URL', 'application/json', '"gcr.io/my/image"'],
    ],
  );
  assert.deepEqual(rd.metadata, {
    finishedOn: '2021-03-29T09:50:15Z',
    invocationId: 'abhhf-12354-asjsdbjs23-3435353n',
    startedOn: '2021-03-29T09:50:00Z',
  });

  // §3.7 is printed in protojson wire order: compacting it gives the exact bytes (no space after `,`)
  assert.equal(payload.bytes.toString('utf8'), JSON.stringify(expected));
  assert.deepEqual(payload.subjects, [{ name: 'gcr.io/my/image', digest: { sha256: IMG } }]);
  assert.equal(payload.predicateType, 'https://slsa.dev/provenance/v1');
  assert.equal(payload.kind, 'in-toto');
});

test('Vector C: slsa/v2alpha4 TaskRun — step subjects first, filtered step byproducts', () => {
  const got = statementOf(
    payloadFormat('slsa/v2alpha4').createPayload(
      taskRunInput('v2alpha4-taskrun1.json'),
      config({ builderId: 'test_builder-1' }),
    ),
  );
  assert.deepEqual(got.subject, [
    { name: 'gcr.io/my/image/fromstep3', digest: { sha256: IMG } },
    { name: 'gcr.io/my/image', digest: { sha256: IMG4 } },
  ]);
  const bd = got.predicate.buildDefinition;
  assert.deepEqual(bd.resolvedDependencies, TASKRUN_DEPENDENCIES);
  assert.deepEqual(bd.internalParameters, {
    'tekton-pipelines-feature-flags': { enableAPIFields: 'beta', resultExtractionMethod: 'termination-message' },
  });
  const bp = got.predicate.runDetails.byproducts;
  assert.deepEqual(
    bp.map((b: Json) => b.name),
    ['stepResults/taskrun-build/step1_result1', 'stepResults/taskrun-build/step1_result1-ARTIFACT_OUTPUTS'],
  );
  assert.equal(bp[0].content, 'InJlc3VsdC12YWx1ZSI=');
  assert.equal(unbase64(bp[1].content), `{"digest":"sha256:${IMG}","uri":"gcr.io/my/image/fromstep2"}`);
  assert.ok(bp.every((b: Json) => b.mediaType === 'application/json'));
  assert.deepEqual(got.predicate.runDetails.metadata, {
    finishedOn: '2021-03-29T09:50:15Z',
    invocationId: 'abhhf-12354-asjsdbjs23-3435353n',
    startedOn: '2021-03-29T09:50:00Z',
  });
});

test('Vector D: slsa/v2alpha4 PipelineRun without deep inspection', () => {
  const input = pipelineRunInput('v2alpha4-pipelinerun1.json', ['v2alpha4-taskrun2.json', 'v2alpha4-taskrun1.json']);
  const got = statementOf(payloadFormat('slsa/v2alpha4').createPayload(input, config({ builderId: 'test_builder-1' })));
  assert.deepEqual(got.subject, [
    { name: 'abc', digest: { sha256: IMG } },
    { name: 'test.io/test/image', digest: { sha256: IMG } },
    { name: 'index.docker.io/library/abc', digest: { sha256: IMG } },
  ]);
  assert.deepEqual(got.predicate.buildDefinition.resolvedDependencies, [
    { digest: { sha1: '28b123' }, name: 'pipeline', uri: 'git+https://github.com/test' },
    { digest: { sha1: 'x123' }, name: 'pipelineTask', uri: 'git+https://github.com/catalog' },
    { digest: { sha256: T1 }, uri: 'oci://gcr.io/test1/test1' },
    { digest: { sha1: 'ab123' }, name: 'pipelineTask', uri: 'git+https://github.com/test' },
    { digest: { sha256: T2 }, uri: 'oci://gcr.io/test2/test2' },
    { digest: { sha256: T3 }, uri: 'oci://gcr.io/test3/test3' },
    { digest: { sha256: IMG }, name: 'inputs/result', uri: 'abc' },
    { digest: { sha1: 'abcd' }, name: 'inputs/result', uri: 'git+https://git.test.com.git' },
  ]);
  // img2-ARTIFACT_OUTPUTS (invalid digest) is dropped; build-artifact-…, IMAGE_URL, IMAGE_DIGEST filtered
  assert.deepEqual(
    got.predicate.runDetails.byproducts.map((b: Json) => b.name),
    ['CHAINS-GIT_COMMIT', 'CHAINS-GIT_URL', 'img-ARTIFACT_INPUTS', 'img_no_uri-ARTIFACT_OUTPUTS'].map(
      (r) => `pipelineRunResults/pipelinerun-build/${r}`,
    ),
  );
  assert.equal(got.predicate.runDetails.metadata.invocationId, 'abhhf-12354-asjsdbjs23-pipelinerun');
});

test('Vector E: in-toto PipelineRun', () => {
  const input = pipelineRunInput('pipeline-v1-pipelinerun1.json', [
    'pipeline-v1-taskrun1.json',
    'pipeline-v1-taskrun2.json',
  ]);
  const got = statementOf(payloadFormat('in-toto').createPayload(input, config()));
  assert.equal(got._type, 'https://in-toto.io/Statement/v0.1');
  assert.equal(got.predicateType, 'https://slsa.dev/provenance/v0.2');
  assert.deepEqual(got.subject, [{ name: 'test.io/test/image', digest: { sha256: IMG } }]);
  const p = got.predicate;
  assert.equal(p.buildType, 'tekton.dev/v1/PipelineRun');
  assert.deepEqual(p.builder, { id: 'https://tekton.dev/chains/v2' });
  // §3.3 order: pipeline source; per executed child (task order) images then its source; PR inputs; PR git
  assert.deepEqual(p.materials, [
    { digest: { sha1: '28b123' }, uri: 'github.com/test' },
    { digest: { sha256: T1 }, uri: 'oci://gcr.io/test1/test1' },
    { digest: { sha1: 'x123' }, uri: 'github.com/catalog' },
    { digest: { sha256: T2 }, uri: 'oci://gcr.io/test2/test2' },
    { digest: { sha256: T3 }, uri: 'oci://gcr.io/test3/test3' },
    { digest: { sha1: 'ab123' }, uri: 'github.com/test' },
    { digest: { sha256: IMG }, uri: 'abc' },
    { digest: { sha1: 'abcd' }, uri: 'git+https://git.test.com.git' },
  ]);
  assert.deepEqual(p.invocation.configSource, {
    digest: { sha1: '28b123' },
    entryPoint: 'pipeline.yaml',
    uri: 'github.com/test',
  });
  assert.deepEqual(p.invocation.parameters, { IMAGE: 'test.io/test/image' });
  // chains.tekton.dev/* and last-applied-configuration are not provenance
  assert.deepEqual(p.invocation.environment, { annotations: { team: 'build' }, labels: { app: 'chains' } });
  const tasks = p.buildConfig.tasks;
  assert.deepEqual(
    tasks.map((t: Json) => t.name),
    ['git-clone', 'build'],
  );
  assert.equal(tasks[0].after, undefined);
  assert.deepEqual(tasks[1].after, ['git-clone']);
  assert.equal(tasks[1].serviceAccountName, 'pipeline');
  assert.deepEqual(tasks[1].ref, { kind: 'ClusterTask', name: 'build' });
  assert.equal(tasks[1].status, 'Succeeded');
  assert.equal(tasks[1].startedOn, '2021-03-29T09:50:00Z');
  assert.equal(tasks[1].finishedOn, '2021-03-29T09:50:15Z');
  // results verbatim, trailing newline included
  assert.deepEqual(tasks[1].results, [
    { name: 'IMAGE_DIGEST', type: 'string', value: `sha256:${IMG}` },
    { name: 'IMAGE_URL', type: 'string', value: 'gcr.io/my/image\n' },
  ]);
  // the child's invocation: task defaults overlaid by its params
  assert.deepEqual(tasks[1].invocation.parameters, {
    IMAGE: 'test.io/test/image',
    filename: '/bin/ls',
    'CHAINS-GIT_COMMIT': 'sha:taskrun',
    'CHAINS-GIT_URL': 'https://git.test.com',
  });
  assert.deepEqual(tasks[0].steps, [
    {
      annotations: null,
      arguments: null,
      entryPoint: 'git clone',
      environment: { container: 'step1', image: `oci://gcr.io/test1/test1@sha256:${T1}` },
    },
  ]);
  assert.deepEqual(p.metadata, {
    buildFinishedOn: '2021-03-29T09:50:15Z',
    buildStartedOn: '2021-03-29T09:50:00Z',
    completeness: { environment: false, materials: false, parameters: false },
    reproducible: false,
  });
});
