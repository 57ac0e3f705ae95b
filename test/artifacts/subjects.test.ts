// Subjects: §2.3 *ARTIFACT_URI pairs, §2.4 structured outputs, §2.7 merge rules, §2.8 StepAction results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendSubjects,
  artifactUriSubjects,
  subjectsFromBuildArtifacts,
  subjectsV02,
  subjectsV02WithFindings,
  subjectsV2alpha4,
} from '../../src/artifacts/subjects.js';
import { DIGEST1, DIGEST2, DIGEST3, DIGEST4, hex, res, taskRun } from './helpers.js';

test('appendSubjects merges on same name + one shared alg:hex, copying new digest entries; else appends (§2.7)', () => {
  const a = [{ name: 'x', digest: { sha256: 'aa' } }];
  const merged = appendSubjects(a, [
    { name: 'x', digest: { sha256: 'aa', sha512: 'bb' } },
    { name: 'x', digest: { sha256: 'cc' } },
    { name: 'y', digest: { sha256: 'aa' } },
  ]);
  assert.deepEqual(merged, [
    { name: 'x', digest: { sha256: 'aa', sha512: 'bb' } },
    { name: 'x', digest: { sha256: 'cc' } },
    { name: 'y', digest: { sha256: 'aa' } },
  ]);
  assert.deepEqual(a, [{ name: 'x', digest: { sha256: 'aa' } }], 'the input is not modified');
  // a later item merging through the second entry keeps first-seen positions
  assert.deepEqual(appendSubjects(merged, [{ name: 'x', digest: { sha256: 'cc', sha1: 'dd' } }])[1], {
    name: 'x',
    digest: { sha256: 'cc', sha1: 'dd' },
  });
});

test('Chains TestExtractSignableTargetFromResults: *ARTIFACT_URI pairs with any URI, valid digests only', () => {
  const results = res(
    [
      'mvn1_ARTIFACT_URI',
      'projects/test-project/locations/us-west4/repositories/test-repo/mavenArtifacts/com.google.guava:guava:31.0-jre',
    ],
    ['mvn1_ARTIFACT_DIGEST', DIGEST1],
    ['mvn1_pom_ARTIFACT_URI', 'com.google.guava:guava:31.0-jre.pom'],
    ['mvn1_pom_ARTIFACT_DIGEST', DIGEST2],
    ['mvn1_src_ARTIFACT_URI', 'com.google.guava:guava:31.0-jre-sources.jar'],
    ['mvn1_src_ARTIFACT_DIGEST', DIGEST3],
    [
      'mvn2_ARTIFACT_URI',
      'projects/test-project/locations/us-west4/repositories/test-repo/mavenArtifacts/a.b.c:d:1.0-jre',
    ],
    ['mvn2_ARTIFACT_DIGEST', DIGEST4],
    ['ARTIFACT_URI', 'projects/test-project/locations/us-west4/repositories/test-repo/mavenArtifacts/empty_prefix'],
    ['ARTIFACT_DIGEST', DIGEST1],
    ['miss_target_name_ARTIFACT_DIGEST', DIGEST1],
    [
      'wrong_digest_format_ARTIFACT_URI',
      'projects/test-project/locations/us-west4/repositories/test-repo/mavenArtifacts/wrong_digest_format',
    ],
    ['wrong_digest_format_ARTIFACT_DIGEST', 'abc'],
  );
  const { subjects, findings } = artifactUriSubjects(results);
  assert.deepEqual(
    subjects.map((s) => [s.name.split('/').pop(), s.digest.sha256]),
    [
      ['com.google.guava:guava:31.0-jre', hex(DIGEST1)],
      ['com.google.guava:guava:31.0-jre.pom', hex(DIGEST2)],
      ['com.google.guava:guava:31.0-jre-sources.jar', hex(DIGEST3)],
      ['a.b.c:d:1.0-jre', hex(DIGEST4)],
      ['empty_prefix', hex(DIGEST1)],
    ],
  );
  assert.deepEqual(
    findings.map((f) => [f.reason, f.result]),
    [
      ['UnpairedDigest', 'miss_target_name_ARTIFACT_DIGEST'],
      ['InvalidDigest', 'wrong_digest_format_ARTIFACT_URI+wrong_digest_format_ARTIFACT_DIGEST'],
    ],
  );
});

test('*ARTIFACT_URI subject digests keep the algorithm as written (Chains splits the raw value)', () => {
  const sha512 = `sha512:${'ab'.repeat(64)}`;
  assert.deepEqual(subjectsV02(res(['x_ARTIFACT_URI', 'pkg:generic/x@1'], ['x_ARTIFACT_DIGEST', sha512])), [
    { name: 'pkg:generic/x@1', digest: { sha512: 'ab'.repeat(64) } },
  ]);
  assert.deepEqual(subjectsV02(res(['x_ARTIFACT_URI', 'x'], ['x_ARTIFACT_DIGEST', `SHA256:${hex(DIGEST1)}`])), [
    { name: 'x', digest: { SHA256: hex(DIGEST1) } },
  ]);
});

test('structured *ARTIFACT_OUTPUTS (v0.2 family): any valid object, isBuildArtifact ignored, uri verbatim', () => {
  const results = res(
    ['a-ARTIFACT_OUTPUTS', { uri: 'pkg:npm/a@1', digest: DIGEST1 }],
    ['b-ARTIFACT_OUTPUTS', { uri: 'gcr.io/b/b', digest: DIGEST2, isBuildArtifact: 'false', extra: 'ignored' }],
    ['c-ARTIFACT_OUTPUTS', { uri: 'c', digest: 'sha256:' }],
    ['d-ARTIFACT_OUTPUTS', { URI: 'd', digest: DIGEST3 }],
  );
  const { subjects, findings } = subjectsV02WithFindings(results);
  assert.deepEqual(subjects, [
    { name: 'pkg:npm/a@1', digest: { sha256: hex(DIGEST1) } },
    { name: 'gcr.io/b/b', digest: { sha256: hex(DIGEST2) } },
  ]);
  assert.deepEqual(
    findings.map((f) => [f.reason, f.result]),
    [
      ['InvalidDigest', 'c-ARTIFACT_OUTPUTS'],
      ['InvalidResult', 'd-ARTIFACT_OUTPUTS'],
    ],
  );
  assert.match(findings[1]!.message, /found "URI"; keys are case-sensitive/);
});

test('QUIRK kept: a build-artifact output with uri "abc" gives two subjects (v0.2: OCI name first; v2alpha4: raw first)', () => {
  const results = res(['x-ARTIFACT_OUTPUTS', { uri: 'abc', digest: DIGEST1, isBuildArtifact: 'true' }]);
  assert.deepEqual(
    subjectsV02(results).map((s) => s.name),
    ['index.docker.io/library/abc', 'abc'],
  );
  assert.deepEqual(
    subjectsFromBuildArtifacts(results).subjects.map((s) => s.name),
    ['abc', 'index.docker.io/library/abc'],
  );
});

test('v0.2 order: OCI images (A, B, C), then *ARTIFACT_URI pairs, then structured outputs; duplicates merged', () => {
  const results = res(
    ['o-ARTIFACT_OUTPUTS', { uri: 'gcr.io/a/a', digest: DIGEST1 }],
    ['f_ARTIFACT_URI', 'file.tgz'],
    ['f_ARTIFACT_DIGEST', DIGEST2],
    ['IMAGES', `gcr.io/b/b@${DIGEST3}`],
    ['IMAGE_URL', 'gcr.io/a/a'],
    ['IMAGE_DIGEST', DIGEST1],
  );
  assert.deepEqual(
    subjectsV02(results).map((s) => s.name),
    ['gcr.io/a/a', 'gcr.io/b/b', 'file.tgz'],
  );
});

test("v2alpha4: StepAction results step by step, then the TaskRun's; *ARTIFACT_URI and unmarked outputs are not subjects", () => {
  const tr = taskRun({
    steps: [
      {
        name: 's1',
        results: res(['s1-ARTIFACT_OUTPUTS', { uri: 'gcr.io/s/one', digest: DIGEST1, isBuildArtifact: 'true' }]),
      },
      {
        name: 's2',
        results: res(
          ['IMAGE_URL', 'gcr.io/s/two'],
          ['IMAGE_DIGEST', DIGEST2],
          ['u-ARTIFACT_OUTPUTS', { uri: 'gcr.io/s/unmarked', digest: DIGEST3 }],
        ),
      },
    ],
    results: res(
      ['IMAGES', `gcr.io/t/task@${DIGEST4}`],
      ['f_ARTIFACT_URI', 'file'],
      ['f_ARTIFACT_DIGEST', DIGEST1],
      ['IMAGE_URL', 'gcr.io/s/two'],
      ['IMAGE_DIGEST', DIGEST2],
    ),
  });
  assert.deepEqual(
    subjectsV2alpha4(tr).map((s) => s.name),
    ['gcr.io/s/one', 'gcr.io/s/two', 'gcr.io/t/task'],
  );
});

test('a run without results has no subjects', () => {
  assert.deepEqual(subjectsV02([]), []);
  assert.deepEqual(subjectsV2alpha4(taskRun()), []);
});
