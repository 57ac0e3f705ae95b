// Generates the candidate strings for the go-containerregistry differential vectors (see README.md).
// Run: node --import tsx test/artifacts/ggcr-vectors/inputs.ts > test/artifacts/ggcr-vectors/inputs.json
import { gen } from '../prng.js';

const g = gen(424242);
const HEX = '0123456789abcdef';
const digests = [
  () => `sha256:${g.str(HEX, 64)}`,
  () => `sha256:${g.str(HEX, 64)}`,
  () => `sha256:${g.str(HEX, 64)}`,
  () => `sha256:${g.str('0123456789ABCDEF', 64)}`,
  () => `sha256:${g.str(HEX, g.pick([0, 63, 65]))}`,
  () => `sha512:${g.str(HEX, 128)}`,
  () => `SHA256:${g.str(HEX, 64)}`,
  () => ` sha256:${g.str(HEX, 64)}`,
];
const registries = [
  '',
  '',
  '',
  'gcr.io/',
  'docker.io/',
  'index.docker.io/',
  'localhost/',
  'localhost:5000/',
  '127.0.0.1:5000/',
  '[::1]:5000/',
  'LOCALHOST/',
  'Registry.Example.com/',
  'reg_istry.io/',
  'a.b:/',
  'a.b:x/',
  'a:1:2/',
  'https:/',
  'ex ample.io/',
  'ex%41mple.io/',
  'ex!$&()*+,;=.io/',
  'exämple.io/',
  '[::1/',
  'my-registry:443/',
  'foo.bar.baz:65536/',
];
const segChars = [
  'abcdefghijklmnopqrstuvwxyz0123456789',
  'abcdefghijklmnopqrstuvwxyz0123456789_-.',
  'abcABC',
  'ab:c',
  'a b',
  'abc/',
];
const tags = [
  '',
  '',
  '',
  ':v1',
  ':latest',
  ':1.2.3-rc_1',
  ':',
  ':bad!tag',
  `:${'t'.repeat(128)}`,
  `:${'t'.repeat(129)}`,
  ':UPPER',
  ':a/b',
];

const out = new Set<string>();
// hand-picked edge cases first
for (const s of [
  'ubuntu',
  'a',
  'ab',
  'docker.io/x',
  'gcr.io/a',
  'gcr.io/ab',
  '/foo',
  'foo//bar',
  'foo/',
  'library/ubuntu',
  'docker.io/library/ubuntu',
  'index.docker.io/ubuntu',
  'registry-1.docker.io/library/ubuntu',
  'https://gcr.io/foo',
  'pkg:maven/a/b',
  'localhost',
  'localhost:5000',
  'localhost:5000/a',
  'gcr.io',
  'gcr.io/',
  `${'a'.repeat(256)}`,
  `gcr.io/${'a'.repeat(255)}`,
  `gcr.io/${'a'.repeat(256)}`,
]) {
  out.add(`${s}@sha256:${'0'.repeat(64)}`);
}
out.add(`gcr.io/a/b@sha256:${'0'.repeat(64)}@sha256:${'0'.repeat(64)}`);
out.add('gcr.io/a/b');
out.add('gcr.io/a/b:v1');
while (out.size < 1500) {
  const segs = Array.from({ length: 1 + g.int(3) }, () =>
    g.str(g.pick(segChars.slice(0, g.int(10) === 0 ? segChars.length : 2)), 1 + g.int(8)),
  );
  out.add(`${g.pick(registries)}${segs.join('/')}${g.pick(tags)}@${g.pick(digests)()}`);
}
process.stdout.write(JSON.stringify([...out], null, 0) + '\n');
