// Materials: git source (§2.6 with the git+.git QUIRK), *ARTIFACT_INPUTS (§2.4), image IDs, StepAction inputs (§2.8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendMaterials,
  artifactInputs,
  artifactInputsWithFindings,
  gitFindingsForPipelineRun,
  gitFindingsForTaskRun,
  gitMaterialForPipelineRun,
  gitMaterialForTaskRun,
  materialFromImageId,
  spdxGitUri,
  stepActionInputs,
  taskRunMaterials,
} from '../../src/artifacts/materials.js';
import { ChainsmithError } from '../../src/errors.js';
import type { PipelineRun } from '../../src/tekton/types.js';
import { DIGEST1, hex, res, taskRun } from './helpers.js';

const COMMIT = '705f74ba5bd5309ca9e6a3de50df9ea722fb280c';

test('spdxGitUri adds git+ and .git only when missing', () => {
  assert.equal(spdxGitUri('https://github.com/a/b'), 'git+https://github.com/a/b.git');
  assert.equal(spdxGitUri('git+https://github.com/a/b.git'), 'git+https://github.com/a/b.git');
  assert.equal(spdxGitUri('github.com/something'), 'git+github.com/something.git');
  assert.equal(spdxGitUri(''), 'git+.git');
});

test('TaskRun git: task-spec defaults < spec.params < status.results, values not trimmed', () => {
  const tr = taskRun(
    {
      taskSpec: {
        params: [
          { name: 'CHAINS-GIT_COMMIT', default: 'from-default' },
          { name: 'CHAINS-GIT_URL', default: 'https://default.example/x' },
        ],
      },
    },
    { params: [{ name: 'CHAINS-GIT_COMMIT', value: 'from-param' }] },
  );
  assert.deepEqual(gitMaterialForTaskRun(tr), {
    uri: 'git+https://default.example/x.git',
    digest: { sha1: 'from-param' },
  });
  tr.status!.results = res(['CHAINS-GIT_COMMIT', `${COMMIT}\n`], ['CHAINS-GIT_URL', 'https://github.com/r/r.git']);
  assert.deepEqual(gitMaterialForTaskRun(tr), {
    uri: 'git+https://github.com/r/r.git',
    digest: { sha1: `${COMMIT}\n` },
  });
  const findings = gitFindingsForTaskRun(tr);
  assert.deepEqual(
    findings.map((f) => f.reason),
    ['InvalidDigest'],
  );
  assert.match(findings[0]!.message, /echo without -n/);
});

test("TaskRun git: a non-string value resets the hint like Go's StringVal", () => {
  const tr = taskRun(
    { results: res(['CHAINS-GIT_COMMIT', ['a', 'b']]) },
    {
      params: [
        { name: 'CHAINS-GIT_COMMIT', value: COMMIT },
        { name: 'CHAINS-GIT_URL', value: 'u' },
      ],
    },
  );
  assert.equal(gitMaterialForTaskRun(tr), undefined);
});

test('QUIRK kept: a TaskRun commit without URL gives git+.git, with an UnpairedDigest finding; a URL alone gives nothing', () => {
  const tr = taskRun({}, { params: [{ name: 'CHAINS-GIT_COMMIT', value: COMMIT }] });
  assert.deepEqual(gitMaterialForTaskRun(tr), { uri: 'git+.git', digest: { sha1: COMMIT } });
  const f = gitFindingsForTaskRun(tr);
  assert.deepEqual(
    f.map((x) => [x.reason, x.result]),
    [['UnpairedDigest', 'CHAINS-GIT_COMMIT']],
  );
  assert.match(f[0]!.message, /git\+\.git/);
  const urlOnly = taskRun({}, { params: [{ name: 'CHAINS-GIT_URL', value: 'https://github.com/a/b' }] });
  assert.equal(gitMaterialForTaskRun(urlOnly), undefined);
  assert.deepEqual(
    gitFindingsForTaskRun(urlOnly).map((x) => x.reason),
    ['UnpairedUrl'],
  );
  assert.equal(gitMaterialForTaskRun(taskRun()), undefined);
  assert.deepEqual(gitFindingsForTaskRun(taskRun()), []);
});

test('PipelineRun git needs both values; pipeline-spec defaults < spec.params < status.results', () => {
  const pr: PipelineRun = {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name: 'p' },
    spec: { params: [{ name: 'CHAINS-GIT_URL', value: 'github.com/pipelinerun-param' }] },
    status: {
      pipelineSpec: { params: [{ name: 'CHAINS-GIT_COMMIT', default: '115734d92807a80158b4b7af605d768c647fdb3d' }] },
    },
  };
  assert.deepEqual(gitMaterialForPipelineRun(pr), {
    uri: 'git+github.com/pipelinerun-param.git',
    digest: { sha1: '115734d92807a80158b4b7af605d768c647fdb3d' },
  });
  pr.spec.params = [];
  assert.equal(gitMaterialForPipelineRun(pr), undefined, 'commit without URL: no material at PipelineRun level');
  assert.deepEqual(
    gitFindingsForPipelineRun(pr).map((f) => f.reason),
    ['UnpairedDigest'],
  );
  assert.match(gitFindingsForPipelineRun(pr)[0]!.message, /no git material/);
});

test('*ARTIFACT_INPUTS: algorithm lowercased, hex trimmed; invalid ones reported', () => {
  const results = res(
    ['img-ARTIFACT_INPUTS', { uri: 'abc', digest: ` SHA256:${hex(DIGEST1)} ` }],
    [
      'ARTIFACT_INPUTS',
      { uri: 'https://github.com/tektoncd/pipeline', digest: 'sha1:7f2f46e1b97df36b2b82d1b1d87c81b8b3d21601' },
    ],
    ['bad-ARTIFACT_INPUTS', { uri: 'x', digest: 'sha1:xyz' }],
    ['str-ARTIFACT_INPUTS', 'abc'],
    ['nouri-ARTIFACT_INPUTS', { digest: DIGEST1 }],
  );
  assert.deepEqual(artifactInputs(results), [
    { uri: 'abc', digest: { sha256: hex(DIGEST1) } },
    { uri: 'https://github.com/tektoncd/pipeline', digest: { sha1: '7f2f46e1b97df36b2b82d1b1d87c81b8b3d21601' } },
  ]);
  assert.deepEqual(
    artifactInputsWithFindings(results).findings.map((f) => [f.reason, f.result]),
    [
      ['InvalidDigest', 'bad-ARTIFACT_INPUTS'],
      ['InvalidResult', 'str-ARTIFACT_INPUTS'],
      ['InvalidResult', 'nouri-ARTIFACT_INPUTS'],
    ],
  );
});

test('image IDs: docker-pullable:// stripped, oci:// added, malformed IDs fail payload creation (QUIRK §3.2)', () => {
  assert.deepEqual(
    materialFromImageId(`docker-pullable://gcr.io/cloud-marketplace-containers/google/bazel@${DIGEST1}`),
    {
      uri: 'oci://gcr.io/cloud-marketplace-containers/google/bazel',
      digest: { sha256: hex(DIGEST1) },
    },
  );
  for (const bad of ['gcr.io/x', `gcr.io/x@${hex(DIGEST1)}`, `a@b@${DIGEST1}`, '']) {
    assert.throws(
      () => materialFromImageId(bad),
      (e: unknown) => e instanceof ChainsmithError && e.reason === 'PayloadFailed',
      bad,
    );
  }
});

test('TaskRun materials: steps, sidecars, git, inputs, merged per §2.7', () => {
  const tr = taskRun(
    {
      steps: [{ imageID: `gcr.io/a/a@${DIGEST1}` }, { imageID: `docker-pullable://gcr.io/a/a@${DIGEST1}` }],
      sidecars: [{ imageID: `gcr.io/side/car@${DIGEST1}` }],
      results: res(['x-ARTIFACT_INPUTS', { uri: 'gcr.io/a/a', digest: DIGEST1 }]),
    },
    {
      params: [
        { name: 'CHAINS-GIT_URL', value: 'https://g/r' },
        { name: 'CHAINS-GIT_COMMIT', value: COMMIT },
      ],
    },
  );
  assert.deepEqual(taskRunMaterials(tr), [
    { uri: 'oci://gcr.io/a/a', digest: { sha256: hex(DIGEST1) } },
    { uri: 'oci://gcr.io/side/car', digest: { sha256: hex(DIGEST1) } },
    { uri: 'git+https://g/r.git', digest: { sha1: COMMIT } },
    { uri: 'gcr.io/a/a', digest: { sha256: hex(DIGEST1) } },
  ]);
});

test('appendMaterials merges on uri + shared digest and never mutates its inputs', () => {
  const a = [{ uri: 'u', digest: { sha1: 'x' } }];
  assert.deepEqual(appendMaterials(a, [{ uri: 'u', digest: { sha1: 'x', sha256: 'y' } }]), [
    { uri: 'u', digest: { sha1: 'x', sha256: 'y' } },
  ]);
  assert.deepEqual(a, [{ uri: 'u', digest: { sha1: 'x' } }]);
});

test("StepAction inputs: each step's git (TaskRun-level rules), then all steps' *ARTIFACT_INPUTS", () => {
  const tr = taskRun({
    steps: [
      {
        name: 'a',
        results: res(
          ['CHAINS-GIT_URL', 'https://github.com/org/repo1'],
          ['CHAINS-GIT_COMMIT', 'c1'],
          [
            'a-ARTIFACT_INPUTS',
            { uri: 'https://github.com/org/repo2', digest: 'sha1:7f2f46e1b97df36b2b82d1b1d87c81b8b3d21601' },
          ],
        ),
      },
      { name: 'b', results: res(['CHAINS-GIT_COMMIT', 'c2']) },
    ],
  });
  assert.deepEqual(stepActionInputs(tr), [
    { uri: 'git+https://github.com/org/repo1.git', digest: { sha1: 'c1' } },
    { uri: 'git+.git', digest: { sha1: 'c2' } },
    { uri: 'https://github.com/org/repo2', digest: { sha1: '7f2f46e1b97df36b2b82d1b1d87c81b8b3d21601' } },
  ]);
  assert.deepEqual(
    gitFindingsForTaskRun(tr, { steps: true }).map((f) => f.reason),
    ['UnpairedDigest'],
  );
});
