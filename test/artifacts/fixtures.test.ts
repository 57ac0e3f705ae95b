// The runs a new user would have (test/fixtures/runs): buildah, ko-style, a PipelineRun List. Field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractArtifacts } from '../../src/artifacts/index.js';
import { groupRuns } from '../../src/tekton/collect.js';
import { loadRuns, loadTaskRun } from './helpers.js';

const APP = '60c5764ec3a7ec414236999d1c72c8c39573d26bf77ffacd049ace7fe7d3d2d7';
const BUILDAH = {
  uri: 'oci://quay.io/buildah/stable',
  digest: { sha256: 'a33e1e4544337f2ea46630217602f4741ad921cda69549b498e4e3a360fcf1de' },
};
const GIT = {
  uri: 'git+https://github.com/example/app.git',
  digest: { sha1: '705f74ba5bd5309ca9e6a3de50df9ea722fb280c' },
};

test('buildah TaskRun: the pushed image (tag stripped, echo newline trimmed), step images and git source', () => {
  const tr = loadTaskRun('buildah-taskrun.yaml');
  for (const format of ['in-toto', 'slsa/v1', 'slsa/v2alpha3', 'slsa/v2alpha4'] as const) {
    const out = extractArtifacts({ kind: 'TaskRun', run: tr }, format, { deepInspection: false });
    assert.deepEqual(out.subjects, [{ name: 'registry.example.com/team/app', digest: { sha256: APP } }], format);
    assert.deepEqual(
      out.images,
      [{ repository: 'registry.example.com/team/app', digest: `sha256:${APP}`, source: 'IMAGE_URL+IMAGE_DIGEST' }],
      format,
    );
    assert.deepEqual(
      out.materials,
      [
        BUILDAH,
        {
          uri: 'oci://docker.io/library/bash',
          digest: { sha256: '4c6ab511900f6fb50e6fbd1f849780ea4c81c4e5389cf43643091897ff095abd' },
        },
        GIT,
      ],
      format,
    );
    assert.deepEqual(out.findings, [], format);
  }
});

test('the v1beta1 export of the buildah TaskRun gives the same artifacts as v1', () => {
  const tr = loadTaskRun('buildah-taskrun-v1beta1.yaml');
  const out = extractArtifacts({ kind: 'TaskRun', run: tr }, 'in-toto', { deepInspection: false });
  assert.deepEqual(out.subjects, [{ name: 'registry.example.com/team/app', digest: { sha256: APP } }]);
  assert.deepEqual(out.materials, [BUILDAH, GIT]);
});

test('ko-style TaskRun: IMAGES and *_IMAGE_URL pairs, every rejected candidate named', () => {
  const tr = loadTaskRun('ko-taskrun.json');
  const out = extractArtifacts({ kind: 'TaskRun', run: tr }, 'slsa/v1', { deepInspection: false });
  assert.deepEqual(
    out.images.map((i) => [`${i.repository}@${i.digest.slice(7, 15)}`, i.source]),
    [
      ['index.docker.io/example/ko-sidecar@871e15e4', 'sidecar_IMAGE_URL+sidecar_IMAGE_DIGEST'],
      ['registry.example.com/ko/worker@e1b22c1c', 'worker_IMAGE_URL+worker_IMAGE_DIGEST'],
      ['registry.example.com/ko/app@194e07bc', 'IMAGES'],
      ['ghcr.io/example/cli@b643038b', 'IMAGES'],
    ],
  );
  assert.deepEqual(
    out.subjects.map((s) => s.name),
    [
      'index.docker.io/example/ko-sidecar',
      'registry.example.com/ko/worker',
      'registry.example.com/ko/app',
      'ghcr.io/example/cli',
      'registry.example.com/ko/app.sbom.spdx.json',
    ],
  );
  assert.deepEqual(Object.keys(out.subjects[4]!.digest), ['sha512']);
  assert.deepEqual(
    out.findings.map((f) => [f.reason, f.result]),
    [
      ['NearMissName', 'image_url'],
      ['NearMissName', 'IMAGEDIGEST'],
      ['NearMissName', 'CHAINS_GIT_URL'],
      ['UnpairedUrl', 'lonely_IMAGE_URL'],
      ['UnpairedDigest', 'orphan_IMAGE_DIGEST'],
      ['InvalidDigest', 'bad_IMAGE_URL+bad_IMAGE_DIGEST'],
      ['InvalidReference', 'upper_IMAGE_URL+upper_IMAGE_DIGEST'],
      ['InvalidReference', 'IMAGES'],
      ['UnpairedDigest', 'CHAINS-GIT_COMMIT'],
    ],
  );
  // The misspelt CHAINS_GIT_URL param leaves the commit alone: Chains records git+.git, and so do we.
  assert.deepEqual(out.materials.at(-1), {
    uri: 'git+.git',
    digest: { sha1: '2c4c6cb67abab6e6cb46d0e94b6b646c8523ebf6' },
  });
});

test('PipelineRun List: the PipelineRun finds its children; subjects, materials in §3.3 order, deep inspection', () => {
  const runs = loadRuns('pipelinerun-list.yaml');
  assert.deepEqual(
    runs.map((r) => `${r.kind} ${r.metadata.name}`),
    [
      'PipelineRun build-and-push-r8m2k',
      'TaskRun build-and-push-r8m2k-fetch-source',
      'TaskRun build-and-push-r8m2k-build-image',
    ],
  );
  const { pipelineRuns, taskRuns } = groupRuns(runs);
  assert.equal(taskRuns.length, 0);
  const group = pipelineRuns[0]!;
  assert.deepEqual(
    group.children.map((c) => c.metadata.name),
    ['build-and-push-r8m2k-fetch-source', 'build-and-push-r8m2k-build-image'],
  );
  const out = extractArtifacts({ kind: 'PipelineRun', run: group }, 'in-toto', { deepInspection: false });
  assert.deepEqual(out.subjects, [{ name: 'registry.example.com/team/app', digest: { sha256: APP } }]);
  assert.deepEqual(out.materials, [
    {
      uri: 'git+https://github.com/example/pipelines.git',
      digest: { sha1: 'f52c6b67a20856d9a7d27f34e5cd68a81765c194' },
    },
    {
      uri: 'oci://ghcr.io/tektoncd/github.com/tektoncd/pipeline/cmd/git-init',
      digest: { sha256: 'bcfa843f4d411ac78d8d28d2f98fed81dc0e4ebd02e8721094fa3250902829fd' },
    },
    {
      uri: 'https://artifacthub.io/api/v1/packages/tekton-task/tekton-catalog-tasks/git-clone/0.9.0',
      digest: { sha256: 'd7bfb2d9dc56dbf260c63a89c40371a4eeed8df3fb1764bf9d810baa1dd4e29a' },
    },
    BUILDAH,
    GIT,
  ]);
  assert.deepEqual(out.images, []);
  assert.deepEqual(out.findings, []);
  const deep = extractArtifacts({ kind: 'PipelineRun', run: group }, 'in-toto', { deepInspection: true });
  assert.deepEqual(deep.subjects, out.subjects, 'the child image merges with the PipelineRun result');
  const fetch = extractArtifacts({ kind: 'TaskRun', run: group.children[0]! }, 'in-toto', { deepInspection: false });
  assert.deepEqual(
    fetch.findings.map((f) => f.reason),
    ['NoArtifacts'],
  );
});

test('a PipelineRun without subjects of its own points at deep inspection when its children have some', () => {
  const { pipelineRuns } = groupRuns(loadRuns('pipelinerun-list.yaml'));
  const group = pipelineRuns[0]!;
  const run = structuredClone(group.run);
  run.status!.results = run.status!.results!.filter((r) => !r.name.startsWith('IMAGE_'));
  const shallow = extractArtifacts({ kind: 'PipelineRun', run: { run, children: group.children } }, 'in-toto', {
    deepInspection: false,
  });
  assert.deepEqual(shallow.subjects, []);
  assert.deepEqual(
    shallow.findings.map((f) => f.reason),
    ['NoArtifacts'],
  );
  assert.match(
    shallow.findings[0]!.message,
    /child TaskRuns name 1 subject\(s\), which artifacts.pipelinerun.enable-deep-inspection: "true" would include/,
  );
  const deep = extractArtifacts({ kind: 'PipelineRun', run: { run, children: group.children } }, 'in-toto', {
    deepInspection: true,
  });
  assert.deepEqual(
    deep.subjects.map((s) => s.name),
    ['registry.example.com/team/app'],
  );
  assert.deepEqual(deep.findings, []);
});

test('an image input has itself as the only subject and no findings', () => {
  const image = { repository: 'gcr.io/foo/bar', digest: `sha256:${APP}`, source: 'IMAGES' };
  assert.deepEqual(extractArtifacts({ kind: 'Image', image }, 'in-toto', { deepInspection: false }), {
    subjects: [{ name: 'gcr.io/foo/bar', digest: { sha256: APP } }],
    materials: [],
    images: [image],
    findings: [],
  });
});

test('same input, same output: extraction is deterministic and does not modify the run', () => {
  const tr = loadTaskRun('ko-taskrun.json');
  const before = JSON.stringify(tr);
  const a = JSON.stringify(extractArtifacts({ kind: 'TaskRun', run: tr }, 'slsa/v2alpha4', { deepInspection: false }));
  const b = JSON.stringify(extractArtifacts({ kind: 'TaskRun', run: tr }, 'slsa/v2alpha4', { deepInspection: false }));
  assert.equal(a, b);
  assert.equal(JSON.stringify(tr), before);
});
