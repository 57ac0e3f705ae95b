// Reading SigningPolicy and SigningPolicyGrant objects: the documented shape is read as is; anything else is a
// ChainsmithError naming the field, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChainsmithError } from '../../src/errors.js';
import { readSigningPolicy, readSigningPolicyGrant } from '../../src/policy/parse.js';

const apiPolicy = {
  apiVersion: 'chainsmith.dev/v1alpha1',
  kind: 'SigningPolicy',
  metadata: {
    name: 'team-a',
    namespace: 'team-a',
    uid: '8f0c',
    generation: 3,
    resourceVersion: '1234',
    creationTimestamp: '2026-12-01T10:00:00Z',
    managedFields: [{ manager: 'kubectl' }],
  },
  spec: {
    selector: {
      matchLabels: { 'app.kubernetes.io/part-of': 'payments' },
      matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['test'] }],
    },
    signer: { x509: { secretName: 'team-a-signing' } },
    builderId: 'https://ci.example.com/team-a',
    formats: { taskrun: 'in-toto', pipelinerun: 'slsa/v2alpha4', oci: 'simplesigning' },
    storage: { taskrun: ['tekton', 'oci'], pipelinerun: ['oci'], oci: [], ociRepository: 'registry.example.com/a' },
    transparency: 'true',
  },
  status: {
    observedGeneration: 2,
    signer: 'secret/team-a-signing',
    conditions: [
      { type: 'Ready', status: 'True', reason: 'Granted', message: 'ok', lastTransitionTime: '2026-12-01T10:00:01Z' },
    ],
  },
};

function rejects(obj: unknown, pattern: RegExp, read: (o: unknown) => unknown = readSigningPolicy): void {
  assert.throws(
    () => read(obj),
    (err: unknown) => {
      assert.ok(err instanceof ChainsmithError, `not a ChainsmithError: ${String(err)}`);
      assert.equal(err.reason, 'InvalidConfig');
      assert.match(err.message, pattern);
      return true;
    },
  );
}

function withSpec(spec: unknown): unknown {
  return { ...apiPolicy, spec };
}

test('a policy as the API server returns it is read field by field; unknown metadata is dropped', () => {
  const p = readSigningPolicy(structuredClone(apiPolicy));
  assert.deepEqual(p.metadata, {
    name: 'team-a',
    namespace: 'team-a',
    uid: '8f0c',
    generation: 3,
    resourceVersion: '1234',
  });
  assert.deepEqual(p.spec, apiPolicy.spec);
  assert.deepEqual(p.status, apiPolicy.status);
  assert.equal(p.kind, 'SigningPolicy');
});

test('the three signers, and the optional keyless audience', () => {
  assert.deepEqual(readSigningPolicy(withSpec({ signer: { kms: { ref: 'awskms:///alias/a' } } })).spec, {
    signer: { kms: { ref: 'awskms:///alias/a' } },
  });
  assert.deepEqual(readSigningPolicy(withSpec({ signer: { keyless: { serviceAccount: 'builder' } } })).spec.signer, {
    keyless: { serviceAccount: 'builder' },
  });
  const withAudience = { signer: { keyless: { serviceAccount: 'builder', audience: 'sigstore' } } };
  assert.deepEqual(readSigningPolicy(withSpec(withAudience)).spec, withAudience);
});

test('null fields count as absent, as the API server prunes them', () => {
  assert.deepEqual(readSigningPolicy(withSpec({ selector: null, builderId: 'https://x.example', signer: null })).spec, {
    builderId: 'https://x.example',
  });
});

test('garbage is refused with a ChainsmithError naming the field', () => {
  rejects(null, /^SigningPolicy: not an object \(got null\)/);
  rejects('team-a', /^SigningPolicy: not an object/);
  rejects([apiPolicy], /^SigningPolicy: not an object \(got a list\)/);
  rejects({ spec: {} }, /^SigningPolicy: metadata is missing/);
  rejects({ metadata: { name: 'x' }, spec: {} }, /^SigningPolicy: metadata\.namespace is missing/);
  rejects({ metadata: { name: 7, namespace: 'a' }, spec: {} }, /metadata\.name must be a string, got number 7/);
  rejects({ metadata: { name: 'x', namespace: 'a' } }, /^SigningPolicy a\/x: spec is missing/);
  rejects(withSpec('all'), /^SigningPolicy team-a\/team-a: spec must be an object, got string "all"/);
  rejects(withSpec([]), /spec must be an object, got a list/);
  rejects({ ...apiPolicy, kind: 'ConfigMap' }, /kind must be SigningPolicy, got "ConfigMap"/);
  rejects(
    { ...apiPolicy, metadata: { ...apiPolicy.metadata, generation: -1 } },
    /metadata\.generation must be a whole/,
  );
});

test('a signer must set exactly one of x509, kms or keyless', () => {
  const two = { signer: { x509: { secretName: 's' }, kms: { ref: 'hashivault://k' } } };
  rejects(withSpec(two), /spec\.signer must set exactly one of x509, kms or keyless; it sets x509 and kms/);
  rejects(withSpec({ signer: {} }), /spec\.signer must set exactly one of x509, kms or keyless; it sets none/);
  rejects(withSpec({ signer: { x509: {} } }), /spec\.signer\.x509\.secretName is missing/);
  rejects(withSpec({ signer: { x509: { secretName: '' } } }), /spec\.signer\.x509\.secretName must not be empty/);
  rejects(withSpec({ signer: { kms: 'hashivault://k' } }), /spec\.signer\.kms must be an object/);
  rejects(
    withSpec({ signer: { keyless: { serviceAccount: 'b', audience: 3 } } }),
    /spec\.signer\.keyless\.audience must be a string/,
  );
});

test('selectors: operators, values, and their limits', () => {
  const expr = (e: unknown) => withSpec({ selector: { matchExpressions: [e] } });
  rejects(
    expr({ key: 'a', operator: 'Matches', values: ['x'] }),
    /matchExpressions\[0\]\.operator must be one of In, NotIn, Exists, DoesNotExist, got "Matches"/,
  );
  rejects(expr({ key: 'a', operator: 'In' }), /matchExpressions\[0\]\.values operator In needs at least one value/);
  rejects(expr({ key: 'a', operator: 'Exists', values: ['x'] }), /operator Exists must not have values/);
  rejects(expr({ operator: 'Exists' }), /matchExpressions\[0\]\.key is missing/);
  rejects(
    withSpec({ selector: { matchLabels: { a: 1 } } }),
    /spec\.selector\.matchLabels\["a"\] must be a string, got number 1/,
  );
  rejects(
    withSpec({ selector: { matchLabels: { a: 'x'.repeat(64) } } }),
    /matchLabels\.a is 64 characters long, more than 63/,
  );
  const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
  rejects(withSpec({ selector: { matchLabels: many } }), /matchLabels holds 33 entries, more than 32 \(the limit\)/);
  const values = Array.from({ length: 65 }, (_, i) => `v${i}`);
  rejects(expr({ key: 'a', operator: 'In', values }), /values holds 65 items, more than 64/);
  // an empty label value is a value
  const empty = readSigningPolicy(withSpec({ selector: { matchLabels: { a: '' } } }));
  assert.deepEqual(empty.spec.selector, { matchLabels: { a: '' } });
});

test('storage names are left to chains-config, but a comma cannot smuggle in a second backend', () => {
  assert.deepEqual(readSigningPolicy(withSpec({ storage: { taskrun: ['s3'] } })).spec.storage, { taskrun: ['s3'] });
  rejects(
    withSpec({ storage: { taskrun: ['tekton,gcs'] } }),
    /spec\.storage\.taskrun holds "tekton,gcs"; list one backend name per item/,
  );
  rejects(withSpec({ storage: { oci: 'oci' } }), /spec\.storage\.oci must be a list, got string "oci"/);
  rejects(withSpec({ storage: { ociRepository: '' } }), /spec\.storage\.ociRepository must not be empty/);
});

test('transparency is "true", "false" or "manual"; a YAML boolean is refused', () => {
  rejects(withSpec({ transparency: true }), /spec\.transparency must be "true", "false" or "manual", got true/);
  rejects(withSpec({ transparency: 'on' }), /got "on"/);
  assert.equal(readSigningPolicy(withSpec({ transparency: 'manual' })).spec.transparency, 'manual');
});

test("a status that is not the controller's shape is dropped, not an error (the controller writes it again)", () => {
  const p = readSigningPolicy({
    ...apiPolicy,
    status: { observedGeneration: 'two', conditions: [{ type: 'Ready' }, 'x', apiPolicy.status.conditions[0]] },
  });
  assert.deepEqual(p.status, { conditions: apiPolicy.status.conditions });
  assert.equal(readSigningPolicy({ ...apiPolicy, status: 'broken' }).status, undefined);
});

test('names with control characters are escaped in messages', () => {
  rejects({ metadata: { name: 'x\u001b[2J', namespace: 'a' } }, /^SigningPolicy a\/x\\x1b\[2J: spec is missing$/);
});

test('grants: read as is; a wildcard namespace, an empty list and garbage are refused', () => {
  const g = readSigningPolicyGrant({
    apiVersion: 'chainsmith.dev/v1alpha1',
    kind: 'SigningPolicyGrant',
    metadata: { name: 'team-a', generation: 1 },
    spec: {
      namespaces: ['team-a'],
      secrets: ['team-a-signing'],
      kmsRefs: [],
      builderIds: ['https://ci.example.com/a'],
    },
  });
  assert.deepEqual(g.spec, {
    namespaces: ['team-a'],
    secrets: ['team-a-signing'],
    kmsRefs: [],
    builderIds: ['https://ci.example.com/a'],
  });
  assert.deepEqual(g.metadata, { name: 'team-a', generation: 1 });
  const read = readSigningPolicyGrant;
  rejects(
    { metadata: { name: 'g' }, spec: { namespaces: ['*'] } },
    /^SigningPolicyGrant g: spec\.namespaces must name namespaces; "\*" is not accepted/,
    read,
  );
  rejects(
    { metadata: { name: 'g' }, spec: { namespaces: [] } },
    /spec\.namespaces must list at least one namespace/,
    read,
  );
  rejects({ metadata: { name: 'g' }, spec: {} }, /spec\.namespaces is missing/, read);
  rejects(
    { metadata: { name: 'g' }, spec: { namespaces: ['a'], secrets: 'all' } },
    /spec\.secrets must be a list/,
    read,
  );
  rejects(
    { metadata: { name: 'g' }, spec: { namespaces: ['a'], kmsRefs: [null] } },
    /spec\.kmsRefs\[0\] must be a string, got null/,
    read,
  );
  rejects({ spec: { namespaces: ['a'] } }, /^SigningPolicyGrant: metadata is missing/, read);
  rejects(undefined, /^SigningPolicyGrant: not an object \(got nothing\)/, read);
  const many = Array.from({ length: 257 }, (_, i) => `ns-${i}`);
  rejects(
    { metadata: { name: 'g' }, spec: { namespaces: many } },
    /holds 257 items, more than 256 \(the limit\)/,
    read,
  );
});

test('deep or huge objects stop at the input limits before any field is read', () => {
  let deep: unknown = {};
  for (let i = 0; i < 1000; i++) deep = { x: deep };
  rejects({ ...apiPolicy, spec: deep }, /nested deeper than 256 levels/);
});

test('property: any value is read or refused with a ChainsmithError, never anything else', () => {
  const fields = fc.oneof(
    fc.anything(),
    fc.record({ metadata: fc.anything(), spec: fc.anything(), status: fc.anything() }),
    fc.record({
      metadata: fc.record({ name: fc.string(), namespace: fc.string(), generation: fc.anything() }),
      spec: fc.record(
        {
          selector: fc.anything(),
          signer: fc.oneof(
            fc.anything(),
            fc.record({ x509: fc.anything(), kms: fc.anything(), keyless: fc.anything() }, { requiredKeys: [] }),
          ),
          formats: fc.anything(),
          storage: fc.anything(),
          transparency: fc.anything(),
          namespaces: fc.array(fc.string()),
          secrets: fc.anything(),
        },
        { requiredKeys: [] },
      ),
    }),
  );
  fc.assert(
    fc.property(fields, (obj) => {
      for (const read of [readSigningPolicy, readSigningPolicyGrant] as const) {
        try {
          read(obj);
        } catch (err) {
          assert.ok(err instanceof ChainsmithError, `${String(err)}`);
          assert.doesNotMatch(err.message, /[\u0000-\u001f]/);
        }
      }
    }),
    { numRuns: 500 },
  );
});
