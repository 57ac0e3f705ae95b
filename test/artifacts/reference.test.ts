// Image references named exactly as go-containerregistry's name.NewDigest (weak validation) names them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseRepository, parseImageReference, parseImageReferenceDetailed } from '../../src/artifacts/reference.js';
import { ChainsmithError } from '../../src/errors.js';
import { gen } from './prng.js';

const D = 'sha256:05f95b26ed10668b7183c1e2da98610e91372fa9f510046d4ce5812addad86b5';

test('Docker Hub normalisation and tag stripping', () => {
  const cases: Array<[string, string, string?]> = [
    ['ubuntu', 'index.docker.io/library/ubuntu'],
    ['img1', 'index.docker.io/library/img1'],
    ['docker.io/ubuntu', 'index.docker.io/library/ubuntu'],
    ['docker.io/library/ubuntu', 'index.docker.io/library/ubuntu'],
    ['index.docker.io/ubuntu', 'index.docker.io/library/ubuntu'],
    ['example/app', 'index.docker.io/example/app'],
    ['docker.io/example/app:v1', 'index.docker.io/example/app', 'v1'],
    ['gcr.io/foo/bar', 'gcr.io/foo/bar'],
    ['gcr.io/a/b:v1', 'gcr.io/a/b', 'v1'],
    ['localhost/app', 'localhost/app'],
    ['localhost:5000/app:dev', 'localhost:5000/app', 'dev'],
    ['127.0.0.1:5000/team/app', '127.0.0.1:5000/team/app'],
    ['[::1]:5000/app', '[::1]:5000/app'],
    ['Registry.Example.com/app', 'Registry.Example.com/app'],
    ['registry.example.com/a/b/c/d', 'registry.example.com/a/b/c/d'],
    ['abc', 'index.docker.io/library/abc'],
  ];
  for (const [input, repository, tag] of cases) {
    const got = parseImageReference(`${input}@${D}`);
    assert.deepEqual(got, tag ? { repository, digest: D, tag } : { repository, digest: D }, input);
  }
});

test('invalid references, with the reason that names the broken part', () => {
  const cases: Array<[string, 'InvalidDigest' | 'InvalidReference', RegExp]> = [
    [`gcr.io/foo/bar`, 'InvalidReference', /has no digest/],
    [`gcr.io/foo/bar@${D}@${D}`, 'InvalidReference', /exactly one "@"/],
    [`gcr.io/foo/bar@sha512:${'a'.repeat(128)}`, 'InvalidDigest', /sha256:<64 hex>/],
    [`gcr.io/foo/bar@sha256:${'A'.repeat(64)}`, 'InvalidDigest', /lowercase hex/],
    [`gcr.io/foo/bar@sha256:abc`, 'InvalidDigest', /64 hex characters/],
    [`gcr.io/foo/bar@ ${D}`, 'InvalidDigest', /sha256/],
    [`gcr.io/Foo/bar@${D}`, 'InvalidReference', /lowercase/],
    [`gcr.io/a@${D}`, 'InvalidReference', /between 2 and 255/],
    [`docker.io/x@${D}`, 'InvalidReference', /between 2 and 255/],
    [`gcr.io/foo/bar:@${D}`, 'InvalidReference', /tag name after the colon/],
    [`gcr.io/foo/bar:bad!tag@${D}`, 'InvalidReference', /tag/],
    [`gcr.io/foo/bar:${'t'.repeat(129)}@${D}`, 'InvalidReference', /tag/],
    [`reg istry.io/foo@${D}`, 'InvalidReference', /./],
    [`registry.io:port/foo@${D}`, 'InvalidReference', /port/],
    [`@${D}`, 'InvalidReference', /repository name must be specified/],
    [`pkg:maven/a/b@${D}`, 'InvalidReference', /./],
  ];
  for (const [input, reason, message] of cases) {
    const r = parseImageReferenceDetailed(input);
    assert.equal(r.ok, false, input);
    if (!r.ok) {
      assert.equal(r.reason, reason, input);
      assert.match(r.problem, message, input);
    }
    assert.equal(parseImageReference(input), undefined, input);
  }
});

test('a URL-looking reference is accepted exactly as go-containerregistry accepts it (registry "https:", path "/gcr.io/foo")', () => {
  assert.deepEqual(parseImageReference(`https://gcr.io/foo@${D}`), { repository: 'https://gcr.io/foo', digest: D });
});

test('normaliseRepository normalises a bare repository and throws InvalidReference for a bad one', () => {
  assert.equal(normaliseRepository('ubuntu'), 'index.docker.io/library/ubuntu');
  assert.equal(normaliseRepository('docker.io/x/y'), 'index.docker.io/x/y');
  assert.equal(normaliseRepository('127.0.0.1:5000/app'), '127.0.0.1:5000/app');
  assert.throws(() => normaliseRepository('Gcr.io/UPPER'), (e: unknown) => e instanceof ChainsmithError && e.reason === 'InvalidReference' && /UPPER/.test(e.message));
  assert.throws(() => normaliseRepository(''), ChainsmithError);
});

test('property: a parsed reference is canonical — re-parsing its name gives itself', () => {
  const g = gen(99);
  const regs = ['', 'gcr.io/', 'docker.io/', 'localhost:5000/', 'index.docker.io/', 'quay.io/', 'LOCALHOST/', 'a.b:1/'];
  const seg = () => g.str('abcdefghijklmnopqrstuvwxyz0123456789_-.', 1 + g.int(8));
  let ok = 0;
  for (let i = 0; i < 3000; i++) {
    const path = Array.from({ length: 1 + g.int(3) }, seg).join('/');
    const tag = g.int(3) === 0 ? `:${g.str('abcdefghijklmnopqrstuvwxyzABCDEF0123456789_.-', 1 + g.int(10))}` : '';
    const ref = `${g.pick(regs)}${path}${tag}@${D}`;
    const p = parseImageReference(ref);
    if (!p) continue;
    ok++;
    assert.deepEqual(parseImageReference(`${p.repository}@${p.digest}`), { repository: p.repository, digest: p.digest }, ref);
    assert.ok(!p.repository.startsWith('docker.io/'), `docker.io is always rewritten: ${ref}`);
    if (p.repository.startsWith('index.docker.io/')) assert.ok(p.repository.split('/').length >= 3, `Hub names have a namespace: ${ref}`);
  }
  assert.ok(ok > 1000, `enough valid samples (${ok})`);
});

test('differential: every go-containerregistry vector (name.NewDigest) is parsed to the same verdict and name', async () => {
  const { readFile } = await import('node:fs/promises');
  const vectors = JSON.parse(await readFile(new URL('./ggcr-vectors/vectors.json', import.meta.url), 'utf8')) as Array<{ input: string; ok: boolean; repository?: string; digest?: string }>;
  assert.ok(vectors.length >= 1500);
  let valid = 0;
  const mismatches: string[] = [];
  for (const v of vectors) {
    const got = parseImageReference(v.input);
    const want = v.ok ? { repository: v.repository, digest: v.digest } : undefined;
    const have = got ? { repository: got.repository, digest: got.digest } : undefined;
    if (JSON.stringify(have) !== JSON.stringify(want)) mismatches.push(`${JSON.stringify(v.input)}: want ${JSON.stringify(want)}, got ${JSON.stringify(have)}`);
    if (v.ok) valid++;
  }
  assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);
  assert.ok(valid > 200 && valid < vectors.length - 200, `both verdicts are exercised (${valid} valid)`);
});
