// The §2.7 merge (Chains' AppendSubjects/AppendMaterials): the indexed accumulator gives exactly what Chains'
// scan-every-kept-item loop gives, including Go's "missing entry reads as empty" quirk, and stays fast on the
// inputs that made the scan quadratic (many items with one name and different digests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ArtifactAccumulator, sameArtifact } from '../../src/artifacts/merge.js';

interface Item {
  name: string;
  digest: Record<string, string>;
}

const copy = (i: Item): Item => ({ name: i.name, digest: { ...i.digest } });

/** Chains' addArtifact, literally: the first kept item with the same name and a shared entry absorbs the new one. */
function chainsMerge(original: Item[], add: Item[]): Item[] {
  const out = original.map(copy);
  for (const item of add) {
    const match = out.find((o) => sameArtifact(o.name, o.digest, item.name, item.digest));
    if (match) Object.assign(match.digest, item.digest);
    else out.push(copy(item));
  }
  return out;
}

const small = (values: string[]) => fc.constantFrom(...values);
const itemArb = fc.record({
  name: small(['a', 'b']),
  // few algorithms and values, empty ones included, so that merges, overwrites and the empty quirk all happen
  digest: fc.dictionary(small(['sha256', 'sha512', 'sha1']), small(['', '1', '2', '3']), { maxKeys: 3 }),
});

test("the indexed merge equals Chains' scan on random inputs (merges, overwritten entries, empty values)", () => {
  fc.assert(
    fc.property(fc.array(itemArb, { maxLength: 8 }), fc.array(itemArb, { maxLength: 40 }), (original, add) => {
      const got = new ArtifactAccumulator<Item>((i) => i.name, copy).addVerbatim(original).add(add).toArray();
      assert.deepEqual(got, chainsMerge(original, add));
    }),
    { numRuns: 3000 },
  );
});

test('a kept {alg: ""} absorbs a later item of the same name that lacks alg (Go reads a missing entry as "")', () => {
  const got = new ArtifactAccumulator<Item>((i) => i.name, copy)
    .add([
      { name: 'x', digest: { sha256: '' } },
      { name: 'x', digest: { sha512: 'f' } },
      { name: 'y', digest: { sha512: 'f' } },
    ])
    .toArray();
  assert.deepEqual(got, [
    { name: 'x', digest: { sha256: '', sha512: 'f' } },
    { name: 'y', digest: { sha512: 'f' } },
  ]);
});

test('20,000 items with one name and different digests merge in well under a second (was half a minute)', () => {
  const items: Item[] = [];
  for (let i = 0; i < 20_000; i++) {
    items.push({ name: 'oci://registry.example/img', digest: { sha256: i.toString(16).padStart(64, '0') } });
  }
  // every item appears twice: the second copy must merge into the first
  const started = performance.now();
  const got = new ArtifactAccumulator<Item>((i) => i.name, copy).add(items).add(items).toArray();
  const ms = performance.now() - started;
  assert.equal(got.length, 20_000);
  assert.ok(ms < 2000, `took ${Math.round(ms)} ms`);
});
