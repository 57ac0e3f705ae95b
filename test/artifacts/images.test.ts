// OCI image extraction (spec §2.2): passes A, B, C, de-duplication, deterministic order, findings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractOciImages } from '../../src/artifacts/images.js';
import { DIGEST1, DIGEST2, res } from './helpers.js';

const refs = (results: ReturnType<typeof res>) =>
  extractOciImages(results).images.map((i) => `${i.repository}@${i.digest}`);
const reasons = (results: ReturnType<typeof res>) =>
  extractOciImages(results).findings.map((f) => `${f.reason} ${f.result}`);

test('Chains TestExtractOCIImagesFromResults: pairs by marker, empty values ignored, build artifacts included', () => {
  const results = res(
    ['img1_IMAGE_URL', 'img1'],
    ['img1_IMAGE_DIGEST', DIGEST1],
    ['img2_IMAGE_URL', 'img2'],
    ['img2_IMAGE_DIGEST', DIGEST2],
    ['IMAGE_URL', 'img3'],
    ['IMAGE_DIGEST', DIGEST1],
    ['img4_IMAGE_URL', 'img4'],
    ['img5_IMAGE_DIGEST', 'sha123:abc'],
    ['empty_str_IMAGE_DIGEST', ''],
    ['empty_str_IMAGE_URL', ''],
    ['art1-ARTIFACT_OUTPUTS', { uri: 'gcr.io/new/image', digest: DIGEST2, isBuildArtifact: 'true' }],
  );
  // Result order of the URL member (Chains' order is random; its test sorts).
  assert.deepEqual(refs(results), [
    `index.docker.io/library/img1@${DIGEST1}`,
    `index.docker.io/library/img2@${DIGEST2}`,
    `index.docker.io/library/img3@${DIGEST1}`,
    `gcr.io/new/image@${DIGEST2}`,
  ]);
  assert.deepEqual(reasons(results), [
    'InvalidResult empty_str_IMAGE_DIGEST',
    'InvalidResult empty_str_IMAGE_URL',
    'UnpairedUrl img4_IMAGE_URL',
    'UnpairedDigest img5_IMAGE_DIGEST',
  ]);
});

test('pass A: values are trimmed, tags stripped, no separator needed in the marker, later results overwrite', () => {
  assert.deepEqual(refs(res(['SPAM_IMAGE_URL', ' gcr.io/foo/bar:v1\n'], ['SPAM_IMAGE_DIGEST', `${DIGEST1}\n`])), [
    `gcr.io/foo/bar@${DIGEST1}`,
  ]);
  assert.deepEqual(refs(res(['fooIMAGE_URL', 'gcr.io/foo/bar'], ['fooIMAGE_DIGEST', DIGEST1])), [
    `gcr.io/foo/bar@${DIGEST1}`,
  ]);
  assert.deepEqual(
    refs(res(['IMAGE_URL', 'gcr.io/old/one'], ['IMAGE_URL', 'gcr.io/new/one'], ['IMAGE_DIGEST', DIGEST1])),
    [`gcr.io/new/one@${DIGEST1}`],
  );
  // an empty later value does not erase the earlier one (Chains skips empty values before grouping)
  assert.deepEqual(refs(res(['IMAGE_URL', 'gcr.io/old/one'], ['IMAGE_URL', ' '], ['IMAGE_DIGEST', DIGEST1])), [
    `gcr.io/old/one@${DIGEST1}`,
  ]);
});

test('pass A: deterministic order is the order of the URL results, whatever the digest order', () => {
  const results = res(
    ['b_IMAGE_DIGEST', DIGEST2],
    ['a_IMAGE_DIGEST', DIGEST1],
    ['b_IMAGE_URL', 'gcr.io/b/b'],
    ['a_IMAGE_URL', 'gcr.io/a/a'],
  );
  assert.deepEqual(refs(results), [`gcr.io/b/b@${DIGEST2}`, `gcr.io/a/a@${DIGEST1}`]);
  assert.deepEqual(refs([...results].reverse()), [`gcr.io/a/a@${DIGEST1}`, `gcr.io/b/b@${DIGEST2}`]);
});

test('pass A: non-string values are ignored with InvalidResult; invalid pairs give InvalidDigest / InvalidReference', () => {
  const out = extractOciImages(
    res(
      ['IMAGE_URL', ['gcr.io/a/b']],
      ['IMAGE_DIGEST', DIGEST1],
      ['x_IMAGE_URL', 'gcr.io/x/y'],
      ['x_IMAGE_DIGEST', `sha512:${'a'.repeat(128)}`],
      ['y_IMAGE_URL', 'gcr.io/UPPER/y'],
      ['y_IMAGE_DIGEST', DIGEST1],
    ),
  );
  assert.deepEqual(out.images, []);
  assert.deepEqual(
    out.findings.map((f) => [f.reason, f.result]),
    [
      ['InvalidResult', 'IMAGE_URL'],
      ['UnpairedDigest', 'IMAGE_DIGEST'],
      ['InvalidDigest', 'x_IMAGE_URL+x_IMAGE_DIGEST'],
      ['InvalidReference', 'y_IMAGE_URL+y_IMAGE_DIGEST'],
    ],
  );
  assert.match(out.findings[2]!.message, /sha256:<64 hex>/);
  assert.match(out.findings[3]!.message, /UPPER/);
});

test('pass B: IMAGES split on commas and newlines, pieces trimmed, empty pieces skipped (Chains "images" vectors)', () => {
  assert.deepEqual(refs(res(['IMAGES', `  \n \tgcr.io/foo/bar@${DIGEST1}\n,gcr.io/baz/bar@${DIGEST2}`])), [
    `gcr.io/foo/bar@${DIGEST1}`,
    `gcr.io/baz/bar@${DIGEST2}`,
  ]);
  assert.deepEqual(refs(res(['IMAGES', `gcr.io/foo/bar@${DIGEST1}\ngcr.io/baz/bar@${DIGEST2}\n\n`])), [
    `gcr.io/foo/bar@${DIGEST1}`,
    `gcr.io/baz/bar@${DIGEST2}`,
  ]);
  assert.deepEqual(refs(res(['IMAGES', `gcr.io/foo/bar:v1@${DIGEST1},,`])), [`gcr.io/foo/bar@${DIGEST1}`]);
});

test('pass B: only the exact name IMAGES counts; each bad piece is a finding naming the piece', () => {
  assert.deepEqual(refs(res(['MY_IMAGES', `gcr.io/foo/bar@${DIGEST1}`])), []);
  const out = extractOciImages(
    res(['IMAGES', `gcr.io/foo/bar:latest\ngcr.io/ok/ok@${DIGEST1}\ngcr.io/foo/bar@sha256:abc`]),
  );
  assert.deepEqual(
    out.images.map((i) => i.repository),
    ['gcr.io/ok/ok'],
  );
  assert.deepEqual(
    out.findings.map((f) => f.reason),
    ['InvalidReference', 'InvalidDigest'],
  );
  assert.match(out.findings[0]!.message, /"gcr.io\/foo\/bar:latest"/);
  assert.deepEqual(reasons(res(['IMAGES', ['a', 'b']])), ['InvalidResult IMAGES']);
});

test('pass C: only isBuildArtifact "true" objects with an OCI uri; non-image build artifacts are not findings', () => {
  const out = extractOciImages(
    res(
      ['a-ARTIFACT_OUTPUTS', { uri: 'gcr.io/a/a', digest: DIGEST1, isBuildArtifact: 'true' }],
      ['b-ARTIFACT_OUTPUTS', { uri: 'gcr.io/b/b', digest: DIGEST1 }],
      ['c-ARTIFACT_OUTPUTS', { uri: 'pkg:maven/c/c@1', digest: DIGEST1, isBuildArtifact: 'true' }],
      ['d-ARTIFACT_OUTPUTS', { uri: 'gcr.io/d/d', digest: 'sha256:', isBuildArtifact: 'true' }],
      ['e-ARTIFACT_OUTPUTS', 'gcr.io/e/e'],
      ['ARTIFACT_OUTPUTS', { uri: 'gcr.io/f/f', digest: DIGEST2, isBuildArtifact: 'true' }],
    ),
  );
  assert.deepEqual(
    out.images.map((i) => `${i.repository} ${i.source}`),
    ['gcr.io/a/a a-ARTIFACT_OUTPUTS', 'gcr.io/f/f ARTIFACT_OUTPUTS'],
  );
  assert.deepEqual(
    out.findings.map((f) => `${f.reason} ${f.result}`),
    ['InvalidDigest d-ARTIFACT_OUTPUTS', 'InvalidResult e-ARTIFACT_OUTPUTS'],
  );
});

test('de-duplication across passes on the normalised reference, keeping the first (Chains CrossFormatDedup, ArtifactOutputsDedup)', () => {
  assert.deepEqual(refs(res(['IMAGE_URL', 'img1'], ['IMAGE_DIGEST', DIGEST1], ['IMAGES', `img1@${DIGEST1}`])), [
    `index.docker.io/library/img1@${DIGEST1}`,
  ]);
  assert.deepEqual(
    refs(
      res(
        ['IMAGE_URL', 'gcr.io/foo/bar'],
        ['IMAGE_DIGEST', DIGEST1],
        ['build-image_ARTIFACT_OUTPUTS', { uri: 'gcr.io/foo/bar', digest: DIGEST1, isBuildArtifact: 'true' }],
      ),
    ),
    [`gcr.io/foo/bar@${DIGEST1}`],
  );
  // docker.io/library/ubuntu and ubuntu are the same image
  const out = extractOciImages(
    res(['IMAGE_URL', 'ubuntu:22.04'], ['IMAGE_DIGEST', DIGEST1], ['IMAGES', `docker.io/library/ubuntu@${DIGEST1}`]),
  );
  assert.equal(out.images.length, 1);
  assert.equal(out.images[0]!.source, 'IMAGE_URL+IMAGE_DIGEST');
  // different repositories with the same digest stay apart (Chains DifferentReposSameDigest)
  assert.deepEqual(
    refs(
      res(
        ['img1_IMAGE_URL', 'gcr.io/project/img1'],
        ['img1_IMAGE_DIGEST', DIGEST1],
        ['img2_IMAGE_URL', 'quay.io/project/img2'],
        ['img2_IMAGE_DIGEST', DIGEST1],
      ),
    ),
    [`gcr.io/project/img1@${DIGEST1}`, `quay.io/project/img2@${DIGEST1}`],
  );
});

test('an IMAGE_URL that already carries the digest is rejected like Chains does, with a hint', () => {
  const out = extractOciImages(res(['IMAGE_URL', `gcr.io/a/b@${DIGEST1}`], ['IMAGE_DIGEST', DIGEST1]));
  assert.deepEqual(out.images, []);
  assert.equal(out.findings[0]!.reason, 'InvalidReference');
  assert.match(out.findings[0]!.message, /exactly one "@".*IMAGE_URL must not contain a digest/);
});

test('no results, no images, no findings', () => {
  assert.deepEqual(extractOciImages([]), { images: [], findings: [] });
});

test('property: for results with distinct names, the set of images does not depend on result order, and pairs follow their URL results', async () => {
  const { gen } = await import('./prng.js');
  const g = gen(31337);
  const hexes = Array.from({ length: 8 }, (_, i) => `sha256:${String(i).repeat(64)}`);
  for (let round = 0; round < 300; round++) {
    const markers = Array.from({ length: 1 + g.int(6) }, (_, i) => `m${i}_`);
    const results = res(
      ...markers.flatMap((m): Array<[string, string]> => {
        const pair: Array<[string, string]> = [];
        if (g.int(5) > 0)
          pair.push([
            `${m}IMAGE_URL`,
            g.pick(['gcr.io/a/b', 'ubuntu', 'docker.io/library/ubuntu', 'Bad/Name', `gcr.io/r/${m.slice(0, -1)}`]),
          ]);
        if (g.int(5) > 0) pair.push([`${m}IMAGE_DIGEST`, g.pick([...hexes, 'sha256:xyz'])]);
        return pair;
      }),
      ...(g.int(2)
        ? ([
            [
              'IMAGES',
              `${g.pick(['gcr.io/a/b', 'ubuntu'])}@${g.pick(hexes)}\n${g.pick(['gcr.io/c/d', 'x'])}@${g.pick(hexes)}`,
            ],
          ] as Array<[string, string]>)
        : []),
    );
    const shuffled = [...results].sort(() => g.rnd() - 0.5);
    const a = extractOciImages(results);
    const b = extractOciImages(shuffled);
    const key = (i: { repository: string; digest: string }) => `${i.repository}@${i.digest}`;
    assert.deepEqual(new Set(b.images.map(key)), new Set(a.images.map(key)), `round ${round}`);
    assert.deepEqual(
      new Set(b.findings.map((f) => `${f.reason} ${f.result}`)),
      new Set(a.findings.map((f) => `${f.reason} ${f.result}`)),
      `round ${round}`,
    );
    // pass-A images appear in the order of their URL results
    const urlOrder = shuffled.filter((r) => r.name.endsWith('IMAGE_URL')).map((r) => r.name);
    const fromPairs = b.images.filter((i) => i.source.includes('+')).map((i) => i.source.split('+')[0]!);
    assert.deepEqual(
      fromPairs,
      urlOrder.filter((n) => fromPairs.includes(n)),
      `round ${round}`,
    );
  }
});
