// NearMissName: names that look like hints but are ignored by Chains' exact rules. Information only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractArtifacts } from '../../src/artifacts/index.js';
import { nearMissFindings, nearMissHint } from '../../src/artifacts/near-miss.js';
import { DIGEST1, res, taskRun } from './helpers.js';

test('case, separator and plural slips are near misses of the hint they resemble', () => {
  const cases: Array<[string, string]> = [
    ['IMAGE_URl', 'IMAGE_URL'],
    ['image_url', 'IMAGE_URL'],
    ['IMAGE-URL', 'IMAGE_URL'],
    ['IMAGEURL', 'IMAGE_URL'],
    ['app-image-url', 'IMAGE_URL'],
    ['IMAGE_URI', 'IMAGE_URL'],
    ['IMAGE_URLS', 'IMAGE_URL'],
    ['IMAGEDIGEST', 'IMAGE_DIGEST'],
    ['IMAGE_DIGESTS', 'IMAGE_DIGEST'],
    ['image.digest', 'IMAGE_DIGEST'],
    ['artifact_uri', 'ARTIFACT_URI'],
    ['jar_ARTIFACT_URL', 'ARTIFACT_URI'],
    ['jar_artifact_digest', 'ARTIFACT_DIGEST'],
    ['ARTIFACT_OUTPUT', 'ARTIFACT_OUTPUTS'],
    ['src-artifact-inputs', 'ARTIFACT_INPUTS'],
    ['images', 'IMAGES'],
    ['Images', 'IMAGES'],
    ['CHAINS_GIT_URL', 'CHAINS-GIT_URL'],
    ['chains-git-commit', 'CHAINS-GIT_COMMIT'],
    ['my-CHAINS-GIT_COMMIT', 'CHAINS-GIT_COMMIT'],
  ];
  for (const [name, hint] of cases) assert.equal(nearMissHint(name), hint, name);
});

test('exact hints and unrelated names are not near misses', () => {
  for (const name of [
    'IMAGE_URL',
    'IMAGE_DIGEST',
    'foo-IMAGE_URL',
    'SPAM_IMAGE_DIGEST',
    'IMAGES',
    'x_ARTIFACT_URI',
    'ARTIFACT_OUTPUTS',
    'a-ARTIFACT_INPUTS',
    'CHAINS-GIT_URL',
    'CHAINS-GIT_COMMIT',
    'commit',
    'url',
    'IMAGE',
    'MY_IMAGES',
    'some-uri_DIGEST',
    'digest',
    'BUILDER_IMAGE',
  ]) {
    assert.equal(nearMissHint(name), undefined, name);
  }
});

test('findings name the result and the exact spelling that would work', () => {
  const [f] = nearMissFindings(res(['IMAGE-URL', 'x']));
  assert.deepEqual({ reason: f!.reason, result: f!.result }, { reason: 'NearMissName', result: 'IMAGE-URL' });
  assert.match(f!.message, /must end with exactly "IMAGE_URL"/);
  assert.match(nearMissFindings(res(['chains_git_url', 'x']))[0]!.message, /must be named exactly "CHAINS-GIT_URL"/);
});

test('near misses never change extraction: subjects are the same with or without the near-miss results', () => {
  const good = res(['IMAGE_URL', 'gcr.io/a/b'], ['IMAGE_DIGEST', DIGEST1]);
  const noisy = [...good, ...res(['image_url', 'gcr.io/c/d'], ['IMAGE_DIGESTS', DIGEST1])];
  const a = extractArtifacts({ kind: 'TaskRun', run: taskRun({ results: good }) }, 'in-toto', {
    deepInspection: false,
  });
  const b = extractArtifacts({ kind: 'TaskRun', run: taskRun({ results: noisy }) }, 'in-toto', {
    deepInspection: false,
  });
  assert.deepEqual(b.subjects, a.subjects);
  assert.deepEqual(b.images, a.images);
  assert.deepEqual(
    b.findings.map((f) => f.result),
    ['image_url', 'IMAGE_DIGESTS'],
  );
});

test('params are checked for the CHAINS-GIT_* hints only (IMAGE-ish params are ordinary task inputs)', () => {
  const tr = taskRun(
    { results: res(['IMAGE_URL', 'gcr.io/a/b'], ['IMAGE_DIGEST', DIGEST1]) },
    {
      params: [
        { name: 'image-url', value: 'x' },
        { name: 'CHAINS_GIT_COMMIT', value: 'abc' },
      ],
    },
  );
  const out = extractArtifacts({ kind: 'TaskRun', run: tr }, 'in-toto', { deepInspection: false });
  assert.deepEqual(
    out.findings.map((f) => [f.reason, f.result]),
    [['NearMissName', 'CHAINS_GIT_COMMIT']],
  );
  assert.match(out.findings[0]!.message, /^param "CHAINS_GIT_COMMIT"/);
});
