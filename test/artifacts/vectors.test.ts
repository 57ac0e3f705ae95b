// Spec §8 worked vectors that concern extraction, on Tekton Chains' own test data (test/fixtures/runs/chains/),
// asserted field by field in the deterministic order chainsmith promises (Chains' tests sort first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractArtifacts } from '../../src/artifacts/index.js';
import {
  gitMaterialForPipelineRun,
  gitMaterialForTaskRun,
  stepActionInputs,
  taskRunMaterials,
} from '../../src/artifacts/materials.js';
import { subjectsV02, subjectsV2alpha4 } from '../../src/artifacts/subjects.js';
import type { PipelineRunWithChildren } from '../../src/tekton/types.js';
import { loadPipelineRun, loadTaskRun } from './helpers.js';

const H827 = '827521c857fdcd4374f4da5442fbae2edb01e7fbae285c3ec15673d4c1daecb7';
const TEST1 = {
  uri: 'oci://gcr.io/test1/test1',
  digest: { sha256: 'd4b63d3e24d6eef04a6dc0795cf8a73470688803d97c52cffa3c8d4efd3397b6' },
};
const TEST2 = {
  uri: 'oci://gcr.io/test2/test2',
  digest: { sha256: '4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac' },
};
const TEST3 = {
  uri: 'oci://gcr.io/test3/test3',
  digest: { sha256: 'f1a8b8549c179f41e27ff3db0fe1a1793e4b109da46586501a8343637b1d0478' },
};

function pipeline(dir: string, pr: string, ...children: string[]): PipelineRunWithChildren {
  return {
    run: loadPipelineRun(`chains/${dir}/${pr}.json`),
    children: children.map((c) => loadTaskRun(`chains/${dir}/${c}.json`)),
  };
}

test('Vector B (slsa-v2alpha3/taskrun1): subject gcr.io/my/image, git material from the param overriding the task default', () => {
  const tr = loadTaskRun('chains/slsa-v2alpha3/taskrun1.json');
  const out = extractArtifacts({ kind: 'TaskRun', run: tr }, 'slsa/v2alpha3', { deepInspection: false });
  assert.deepEqual(out.subjects, [{ name: 'gcr.io/my/image', digest: { sha256: H827 } }]);
  assert.deepEqual(gitMaterialForTaskRun(tr), { uri: 'git+https://git.test.com.git', digest: { sha1: 'taskrun' } });
  assert.deepEqual(out.materials, [
    TEST1,
    TEST2,
    TEST3,
    { uri: 'git+https://git.test.com.git', digest: { sha1: 'taskrun' } },
  ]);
  assert.deepEqual(out.images, [
    { repository: 'gcr.io/my/image', digest: `sha256:${H827}`, source: 'IMAGE_URL+IMAGE_DIGEST' },
  ]);
  assert.deepEqual(out.findings, []);
});

test('Vector C (slsa-v2alpha4/taskrun1): step build artifact first, then the task IMAGE_URL pair; StepAction outputs without isBuildArtifact are not subjects', () => {
  const tr = loadTaskRun('chains/slsa-v2alpha4/taskrun1.json');
  assert.deepEqual(subjectsV2alpha4(tr), [
    { name: 'gcr.io/my/image/fromstep3', digest: { sha256: H827 } },
    { name: 'gcr.io/my/image', digest: { sha256: 'd31cc8328054de2bd93735f9cbf0ccfb6e0ee8f4c4225da7d8f8cb3900eaf466' } },
  ]);
  // The v0.2 family never reads step results.
  assert.deepEqual(subjectsV02(tr.status!.results!), [
    { name: 'gcr.io/my/image', digest: { sha256: 'd31cc8328054de2bd93735f9cbf0ccfb6e0ee8f4c4225da7d8f8cb3900eaf466' } },
  ]);
  // Image signatures come from the TaskRun's own results only, in every format.
  const out = extractArtifacts({ kind: 'TaskRun', run: tr }, 'slsa/v2alpha4', { deepInspection: false });
  assert.deepEqual(
    out.images.map((i) => i.repository),
    ['gcr.io/my/image'],
  );
});

test('Vector D (slsa-v2alpha4/pipelinerun1, no deep inspection): abc, test.io/test/image, index.docker.io/library/abc; invalid outputs reported', () => {
  const pr = pipeline('slsa-v2alpha4', 'pipelinerun1', 'taskrun1', 'taskrun2');
  const out = extractArtifacts({ kind: 'PipelineRun', run: pr }, 'slsa/v2alpha4', { deepInspection: false });
  assert.deepEqual(out.subjects, [
    { name: 'abc', digest: { sha256: H827 } },
    { name: 'test.io/test/image', digest: { sha256: H827 } },
    { name: 'index.docker.io/library/abc', digest: { sha256: H827 } },
  ]);
  assert.deepEqual(out.images, [], 'PipelineRun results never become image signatures');
  // v2alpha4 reads only build artifacts: img2 is marked but broken; img_no_uri is unmarked (a byproduct, not a candidate).
  assert.deepEqual(
    out.findings.map((f) => [f.reason, f.result]),
    [['InvalidDigest', 'img2-ARTIFACT_OUTPUTS']],
  );
  assert.match(out.findings[0]!.message, /64 hex characters, got 0/);
  // The v0.2 family reads any *ARTIFACT_OUTPUTS object, so there both are rejected candidates.
  const v02 = extractArtifacts({ kind: 'PipelineRun', run: pr }, 'slsa/v1', { deepInspection: false });
  assert.deepEqual(
    v02.findings.map((f) => [f.reason, f.result]),
    [
      ['InvalidDigest', 'img2-ARTIFACT_OUTPUTS'],
      ['InvalidResult', 'img_no_uri-ARTIFACT_OUTPUTS'],
    ],
  );
  assert.match(v02.findings[1]!.message, /has no uri/);
  assert.deepEqual(
    v02.subjects.map((s) => s.name),
    ['test.io/test/image', 'index.docker.io/library/abc', 'abc'],
  );
});

test("Vector D with deep inspection: PipelineRun subjects, then each executed child's v2alpha4 subjects", () => {
  const pr = pipeline('slsa-v2alpha4', 'pipelinerun1', 'taskrun1', 'taskrun2');
  const out = extractArtifacts({ kind: 'PipelineRun', run: pr }, 'slsa/v2alpha4', { deepInspection: true });
  assert.deepEqual(out.subjects, [
    { name: 'abc', digest: { sha256: H827 } },
    { name: 'test.io/test/image', digest: { sha256: H827 } },
    { name: 'index.docker.io/library/abc', digest: { sha256: H827 } },
    { name: 'gcr.io/my/image/fromstep3', digest: { sha256: H827 } },
    { name: 'gcr.io/my/image', digest: { sha256: 'd31cc8328054de2bd93735f9cbf0ccfb6e0ee8f4c4225da7d8f8cb3900eaf466' } },
  ]);
  // inputs as upstream's resolvedDependencies (inputs/result entries): child StepAction inputs, PR inputs, child git, PR git
  const inputs = out.materials.filter(
    (m) => !m.uri.startsWith('oci://') && !['28b123', 'x123', 'ab123'].includes(m.digest.sha1 ?? ''),
  );
  assert.deepEqual(inputs, [
    { uri: 'https://github.com/tektoncd/pipeline', digest: { sha1: '7f2f46e1b97df36b2b82d1b1d87c81b8b3d21601' } },
    { uri: 'abc', digest: { sha256: H827 } },
    { uri: 'git+https://git.test.com.git', digest: { sha1: 'sha:taskdefault' } },
    { uri: 'git+https://git.test.com.git', digest: { sha1: 'taskrun' } },
    { uri: 'git+https://git.test.com.git', digest: { sha1: 'abcd' } },
  ]);
});

test('repeated build artifacts across children collapse to one subject (slsa-v2alpha4/pipelinerun2 + taskrun3 + taskrun4, deep)', () => {
  const pr = pipeline('slsa-v2alpha4', 'pipelinerun2', 'taskrun3', 'taskrun4');
  const out = extractArtifacts({ kind: 'PipelineRun', run: pr }, 'slsa/v2alpha4', { deepInspection: true });
  assert.deepEqual(
    out.subjects.map((s) => `${s.name} ${s.digest.sha256!.slice(0, 8)}`),
    [
      'abc 827521c8',
      'gcr.io/common/image 33e7e526',
      'test.io/test/image 827521c8',
      'index.docker.io/library/abc 827521c8',
      'gcr.io/task2/step/artifact cb06e289',
      'gcr.io/my/image/fromstep3 827521c8',
      'gcr.io/my/image d31cc832',
      'gcr.io/task1/result c6262181',
    ],
  );
});

test('Vector E (pipeline-v1/pipelinerun1 + taskrun1 + taskrun2, in-toto): subject and materials in §3.3 order', () => {
  const pr = pipeline('pipeline-v1', 'pipelinerun1', 'taskrun1', 'taskrun2');
  const out = extractArtifacts({ kind: 'PipelineRun', run: pr }, 'in-toto', { deepInspection: false });
  assert.deepEqual(out.subjects, [{ name: 'test.io/test/image', digest: { sha256: H827 } }]);
  assert.deepEqual(out.materials, [
    { uri: 'github.com/test', digest: { sha1: '28b123' } },
    TEST1,
    { uri: 'github.com/catalog', digest: { sha1: 'x123' } },
    TEST2,
    TEST3,
    { uri: 'github.com/test', digest: { sha1: 'ab123' } },
    { uri: 'abc', digest: { sha256: H827 } },
    { uri: 'git+https://git.test.com.git', digest: { sha1: 'abcd' } },
  ]);
  assert.deepEqual(gitMaterialForPipelineRun(pr.run), {
    uri: 'git+https://git.test.com.git',
    digest: { sha1: 'abcd' },
  });
});

test('Chains TestStructuredResultPipelineMaterials (pipeline-v1/pipelinerun_structured_results): an output keyed "sha256" is invalid', () => {
  const pr = pipeline('pipeline-v1', 'pipelinerun_structured_results', 'taskrun1', 'taskrun2');
  const out = extractArtifacts({ kind: 'PipelineRun', run: pr }, 'in-toto', { deepInspection: false });
  assert.deepEqual(out.materials.at(-1), { uri: 'abcd', digest: { sha256: H827 } });
  assert.equal(out.materials.length, 7);
  assert.deepEqual(out.subjects, []);
  assert.deepEqual(
    out.findings.map((f) => [f.reason, f.result]),
    [
      ['InvalidResult', 'image-ARTIFACT_OUTPUTS'],
      ['NoArtifacts', ''],
    ],
  );
});

test("in-toto with deep inspection: executed children's subjects first, then the PipelineRun's", () => {
  const pr = pipeline('pipeline-v1', 'pipelinerun1', 'taskrun1', 'taskrun2');
  const out = extractArtifacts({ kind: 'PipelineRun', run: pr }, 'in-toto', { deepInspection: true });
  assert.deepEqual(
    out.subjects.map((s) => s.name),
    ['gcr.io/my/image', 'test.io/test/image'],
  );
  // deep inspection adds the children's git sources (task order: git-clone, then build) before the PipelineRun's
  assert.deepEqual(out.materials.slice(-4), [
    { uri: 'abc', digest: { sha256: H827 } },
    { uri: 'git+https://git.test.com.git', digest: { sha1: 'sha:taskdefault' } },
    { uri: 'git+https://git.test.com.git', digest: { sha1: 'sha:taskrun' } },
    { uri: 'git+https://git.test.com.git', digest: { sha1: 'abcd' } },
  ]);
});

test('IMAGES with several references (pipeline-v1/taskrun-multiple-subjects); step images merged per §2.7', () => {
  const tr = loadTaskRun('chains/pipeline-v1/taskrun-multiple-subjects.json');
  assert.deepEqual(subjectsV02(tr.status!.results!), [
    { name: 'gcr.io/myimage1', digest: { sha256: 'd4b63d3e24d6eef04a6dc0795cf8a73470688803d97c52cffa3c8d4efd3397b6' } },
    { name: 'gcr.io/myimage2', digest: { sha256: 'daa1a56e13c85cf164e7d9e595006649e3a04c47fe4a8261320e18a0bf3b0367' } },
  ]);
  assert.deepEqual(taskRunMaterials(tr), [
    TEST1,
    {
      uri: 'oci://gcr.io/test1/test2',
      digest: { sha256: 'd4b63d3e24d6eef04a6dc0795cf8a73470688803d97c52cffa3c8d4efd3397b5' },
    },
  ]);
});

test('v2alpha4 multiple subjects: build artifacts (raw uri) then IMAGES (slsa-v2alpha4/taskrun-multiple-subjects)', () => {
  const tr = loadTaskRun('chains/slsa-v2alpha4/taskrun-multiple-subjects.json');
  assert.deepEqual(
    subjectsV2alpha4(tr).map((s) => s.name),
    ['gcr.io/foo/bar', 'gcr.io/myimage2', 'gcr.io/myimage1', 'gcr.io/myimage3'],
  );
});

test('StepAction inputs (slsa-v2alpha4/taskrun2): step *ARTIFACT_INPUTS become inputs', () => {
  const tr = loadTaskRun('chains/slsa-v2alpha4/taskrun2.json');
  assert.deepEqual(stepActionInputs(tr), [
    { uri: 'https://github.com/tektoncd/pipeline', digest: { sha1: '7f2f46e1b97df36b2b82d1b1d87c81b8b3d21601' } },
  ]);
  // `some-uri` / `some-uri_DIGEST` is not a recognised pair (suffix `_DIGEST`, not `ARTIFACT_DIGEST`)
  const out = extractArtifacts({ kind: 'TaskRun', run: tr }, 'slsa/v2alpha4', { deepInspection: false });
  assert.deepEqual(out.subjects, []);
  assert.deepEqual(
    out.findings.map((f) => f.reason),
    ['NoArtifacts'],
  );
});
