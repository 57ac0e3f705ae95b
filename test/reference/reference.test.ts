// Image references named exactly as go-containerregistry's name.NewDigest (weak validation) names them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normaliseRepository,
  parseImageReference,
  parseImageReferenceDetailed,
} from '../../src/reference/reference.js';
import { ChainsmithError } from '../../src/errors.js';
import { gen } from '../artifacts/prng.js';

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

test('a URL-looking reference, which ggcr accepts (registry "https:", path "/gcr.io/foo"), is refused', () => {
  const r = parseImageReferenceDetailed(`https://gcr.io/foo@${D}`);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.reason, 'InvalidReference');
});

test('normaliseRepository normalises a bare repository and throws InvalidReference for a bad one', () => {
  assert.equal(normaliseRepository('ubuntu'), 'index.docker.io/library/ubuntu');
  assert.equal(normaliseRepository('docker.io/x/y'), 'index.docker.io/x/y');
  assert.equal(normaliseRepository('127.0.0.1:5000/app'), '127.0.0.1:5000/app');
  assert.throws(
    () => normaliseRepository('Gcr.io/UPPER'),
    (e: unknown) => e instanceof ChainsmithError && e.reason === 'InvalidReference' && /UPPER/.test(e.message),
  );
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
    assert.deepEqual(
      parseImageReference(`${p.repository}@${p.digest}`),
      { repository: p.repository, digest: p.digest },
      ref,
    );
    assert.ok(!p.repository.startsWith('docker.io/'), `docker.io is always rewritten: ${ref}`);
    if (p.repository.startsWith('index.docker.io/'))
      assert.ok(p.repository.split('/').length >= 3, `Hub names have a namespace: ${ref}`);
  }
  assert.ok(ok > 1000, `enough valid samples (${ok})`);
});

// The distribution reference grammar (github.com/distribution/reference regexp.go), written out independently of
// src/reference/grammar.ts, applied to the registry and path go-containerregistry split the name into.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ORACLE_HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const ORACLE_DOMAIN = new RegExp(`^${ORACLE_HOST}(?::([0-9]+))?$`);
const ORACLE_PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
function grammarAccepts(input: string, ggcrName: string): boolean {
  const base = input.slice(0, input.indexOf('@'));
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/') && !/^[\w][\w.-]{0,127}$/.test(base.slice(colon + 1))) return false;
  const slash = ggcrName.indexOf('/');
  const port = ORACLE_DOMAIN.exec(ggcrName.slice(0, slash))?.[1];
  const portOk = port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
  const domainOk = ORACLE_DOMAIN.test(ggcrName.slice(0, slash)) && portOk;
  return domainOk && ORACLE_PATH.test(ggcrName.slice(slash + 1)) && ggcrName.length <= 255;
}

const DIFFERENTIAL = 'differential: we accept exactly what ggcr (name.NewDigest) AND the distribution grammar accept';
test(`${DIFFERENTIAL}, with the same name`, async () => {
  const { readFile } = await import('node:fs/promises');
  type Vector = { input: string; ok: boolean; repository?: string; digest?: string };
  const text = await readFile(new URL('../artifacts/ggcr-vectors/vectors.json', import.meta.url), 'utf8');
  const vectors = JSON.parse(text) as Vector[];
  assert.ok(vectors.length >= 1500);
  let valid = 0;
  let refusedByGrammar = 0;
  const mismatches: string[] = [];
  for (const v of vectors) {
    const got = parseImageReference(v.input);
    const accepted = v.ok && grammarAccepts(v.input, v.repository!);
    if (v.ok && !accepted) refusedByGrammar++;
    const want = accepted ? { repository: v.repository, digest: v.digest } : undefined;
    const have = got ? { repository: got.repository, digest: got.digest } : undefined;
    if (JSON.stringify(have) !== JSON.stringify(want)) {
      mismatches.push(`${JSON.stringify(v.input)}: want ${JSON.stringify(want)}, got ${JSON.stringify(have)}`);
    }
    if (accepted) valid++;
  }
  assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);
  assert.ok(valid > 100 && valid < vectors.length - 200, `both verdicts are exercised (${valid} valid)`);
  assert.ok(
    refusedByGrammar > 20,
    `the vectors hold references only the weak validation accepts (${refusedByGrammar})`,
  );
});

test('references that leave /v2/<name>/ or smuggle URL syntax are InvalidReference (ggcr accepts several)', () => {
  const hostile = [
    'registry/../escape',
    'registry.io/../../escape/admin',
    'registry.io/a/./b',
    'registry.io/a//b',
    'registry.io/a/',
    'registry.io/%2e%2e/admin',
    'registry.io/a%2fb',
    'registry.io/a?x=1',
    'registry.io/a#frag',
    'registry.io\\a/b',
    'registry.io/a b',
    'registry.io/a\tb',
    'registry.io/a\u001b[2Jb',
    'registry.io/a\nb',
    ' registry.io/a/b',
    'registry.io/a/b ',
    'registry.io/_a/b',
    'registry.io/a/.b',
    'registry.io/a/b.',
    'reg_istry.io/a/b',
    'registry.io:/a/b',
    'registry.io:0/a/b',
    'registry.io:99999/a/b',
    'user@registry.io/a/b',
    'registry.io/a/b\u202e',
    '[::1%25lo]:5000/a/b',
  ];
  for (const name of hostile) {
    const r = parseImageReferenceDetailed(`${name}@${D}`);
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.equal(r.reason, 'InvalidReference', name);
    // the message quotes the input with control characters escaped, so it is safe to put in an Event
    if (!r.ok) assert.doesNotMatch(r.problem, /[\u0000-\u001f\u007f]/, name);
  }
});

test('the grammar accepts what registries serve: separators, ports, IPv4, IPv6, upper-case hosts, 255 characters', () => {
  const ok: Array<[string, string]> = [
    ['registry.io/a__b/c--d/e.f/g_h', 'registry.io/a__b/c--d/e.f/g_h'],
    ['my-registry:443/team/app', 'my-registry:443/team/app'],
    ['10.0.0.1:5000/app', '10.0.0.1:5000/app'],
    ['[fe80::1]:5000/app', '[fe80::1]:5000/app'],
    ['Registry.Example.com/app', 'Registry.Example.com/app'],
    [`gcr.io/${'a'.repeat(248)}`, `gcr.io/${'a'.repeat(248)}`],
  ];
  for (const [input, repository] of ok) {
    assert.deepEqual(parseImageReference(`${input}@${D}`), { repository, digest: D }, input);
  }
  assert.equal(parseImageReference(`gcr.io/${'a'.repeat(249)}@${D}`), undefined, 'name of 256 characters');
  assert.equal(parseImageReference(`${'a'.repeat(2000)}@${D}`), undefined);
});
