// Reading run files: JSON/YAML, multi-document, List, kind inference, v1beta1 conversion, one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChainsmithError } from '../../src/errors.js';
import { parseRunDocuments, readRunFile } from '../../src/tekton/read.js';
import type { PipelineRun, TaskRun } from '../../src/tekton/types.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/runs/', import.meta.url));

function invalidRun(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ChainsmithError, `a ChainsmithError, got ${String(e)}`);
    assert.equal(e.reason, 'InvalidRun');
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  };
}

const TR_YAML = `apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: a}
spec: {}
status:
  results:
    - {name: IMAGE_URL, value: gcr.io/a/b}
`;

test('one YAML object, one JSON object, the same run', () => {
  const [y] = parseRunDocuments(TR_YAML);
  const [j] = parseRunDocuments(JSON.stringify(y));
  assert.deepEqual(j, y);
  assert.equal(y!.kind, 'TaskRun');
  assert.deepEqual(y!.status?.results, [{ name: 'IMAGE_URL', value: 'gcr.io/a/b' }]);
});

test('multi-document YAML, a Kubernetes List and a JSON array keep document order; empty documents are skipped', () => {
  const pr = 'apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata: {name: p}\nspec: {}\n';
  assert.deepEqual(
    parseRunDocuments(`---\n${TR_YAML}---\n${pr}---\n`).map((r) => r.kind),
    ['TaskRun', 'PipelineRun'],
  );
  const list = { apiVersion: 'v1', kind: 'List', items: [parseRunDocuments(pr)[0], parseRunDocuments(TR_YAML)[0]] };
  assert.deepEqual(
    parseRunDocuments(JSON.stringify(list)).map((r) => r.metadata.name),
    ['p', 'a'],
  );
  assert.deepEqual(
    parseRunDocuments(JSON.stringify({ ...list, kind: 'TaskRunList' })).map((r) => r.metadata.name),
    ['p', 'a'],
  );
  assert.deepEqual(
    parseRunDocuments(JSON.stringify(list.items)).map((r) => r.metadata.name),
    ['p', 'a'],
  );
});

test('documents without apiVersion/kind (Chains test data) are recognised by their fields', () => {
  assert.equal(
    parseRunDocuments('{"metadata":{"name":"x"},"spec":{"taskRef":{"name":"t"}},"status":{}}')[0]!.kind,
    'TaskRun',
  );
  assert.equal(parseRunDocuments('{"spec":{"pipelineRef":{"name":"p"}}}')[0]!.kind, 'PipelineRun');
  assert.throws(() => parseRunDocuments('{"spec":{}}'), invalidRun(/has no kind; expected a TaskRun or PipelineRun/));
});

test('v1beta1 TaskRun: taskResults → results, resources dropped, apiVersion v1', () => {
  const [tr] = parseRunDocuments(
    `apiVersion: tekton.dev/v1beta1
kind: TaskRun
metadata: {name: old}
spec:
  resources: {inputs: [{name: src}]}
status:
  resourcesResult: [{key: commit, value: abc}]
  taskResults:
    - {name: IMAGE_URL, value: gcr.io/a/b}
  taskSpec:
    resources: {inputs: [{name: src, type: git}]}
    steps: [{name: s}]
`,
  ) as [TaskRun];
  assert.equal(tr.apiVersion, 'tekton.dev/v1');
  assert.deepEqual(tr.status?.results, [{ name: 'IMAGE_URL', value: 'gcr.io/a/b' }]);
  assert.equal('taskResults' in tr.status!, false);
  assert.equal('resources' in tr.spec, false);
  assert.equal('resourcesResult' in tr.status!, false);
  assert.equal('resources' in tr.status!.taskSpec!, false);
  assert.deepEqual(tr.status?.taskSpec?.steps, [{ name: 's' }]);
});

test('v1beta1 TaskRun: the Go field name taskRunResults is accepted too; an existing results list wins', () => {
  const [a] = parseRunDocuments(
    '{"apiVersion":"tekton.dev/v1beta1","kind":"TaskRun","status":{"taskRunResults":[{"name":"x","value":"1"}]}}',
  );
  assert.deepEqual(a!.status?.results, [{ name: 'x', value: '1' }]);
  const [b] = parseRunDocuments(
    '{"apiVersion":"tekton.dev/v1beta1","kind":"TaskRun","status":{"results":[{"name":"v1","value":"1"}],"taskResults":[{"name":"old","value":"2"}]}}',
  );
  assert.deepEqual(b!.status?.results, [{ name: 'v1', value: '1' }]);
});

test('v1beta1 PipelineRun: pipelineResults, serviceAccountName, timeout, taskRuns map → v1 fields', async () => {
  const runs = await readRunFile(join(FIXTURES, 'pipelinerun-v1beta1.yaml'));
  const pr = runs[0] as PipelineRun;
  assert.equal(pr.apiVersion, 'tekton.dev/v1');
  assert.deepEqual(
    pr.status?.results?.map((r) => r.name),
    ['IMAGE_URL', 'IMAGE_DIGEST'],
  );
  assert.deepEqual(pr.spec.taskRunTemplate, { serviceAccountName: 'pipeline' });
  assert.equal('serviceAccountName' in pr.spec, false);
  assert.deepEqual(pr.spec.timeouts, { pipeline: '1h0m0s' });
  assert.equal('resources' in pr.spec, false);
  assert.deepEqual(pr.status?.childReferences, [
    { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: 'build-and-push-old-build', pipelineTaskName: 'build' },
    { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: 'build-and-push-old-fetch', pipelineTaskName: 'fetch' },
  ]);
  assert.equal('taskRuns' in pr.status!, false);
});

test('readRunFile: unreadable files are one-line InvalidRun errors naming the path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-read-'));
  await assert.rejects(readRunFile(join(dir, 'missing.yaml')), invalidRun(/cannot read .*missing\.yaml: no such file/));
  await mkdir(join(dir, 'sub'));
  await assert.rejects(readRunFile(join(dir, 'sub')), invalidRun(/it is a directory/));
  await writeFile(join(dir, 'empty.yaml'), '  \n');
  await assert.rejects(readRunFile(join(dir, 'empty.yaml')), invalidRun(/empty\.yaml: the input is empty/));
});

test('malformed documents: invalid syntax, wrong kinds, wrong shapes — each named, on one line', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"kind": "TaskRun",', /invalid JSON/],
    ['kind: TaskRun\n  bad: [', /invalid YAML at line/],
    ['apiVersion: apps/v1\nkind: Deployment\n', /apiVersion "apps\/v1" \(kind "Deployment"\)/],
    ['apiVersion: tekton.dev/v1\nkind: Task\n', /is a Task, not a TaskRun or PipelineRun/],
    ['apiVersion: tekton.dev/v1alpha1\nkind: TaskRun\n', /apiVersion "tekton.dev\/v1alpha1"/],
    ['- 1\n- 2\n', /item 1 is a number/],
    ['"just a string"', /is a string/],
    ['apiVersion: v1\nkind: List\nitems: {a: 1}\n', /items is an object, not a list/],
    ['kind: TaskRun\nmetadata: [1]\n', /metadata must be an object/],
    ['kind: TaskRun\nspec: 3\n', /spec must be an object/],
    ['kind: TaskRun\nstatus: {results: {a: b}}\n', /status.results must be a list/],
    ['kind: TaskRun\nstatus: {results: [{value: x}]}\n', /status.results\[0\].name must be a non-empty string/],
    ['kind: TaskRun\nstatus: {results: [{name: IMAGE_URL}]}\n', /status.results\[0\] \(IMAGE_URL\) has no value/],
    [
      'kind: TaskRun\nstatus: {results: [{name: n, value: 1.0}]}\n',
      /status.results\[0\].value must be a string, an array of strings or an object of strings, got a number/,
    ],
    [
      'kind: TaskRun\nstatus: {results: [{name: n, value: {isBuildArtifact: true}}]}\n',
      /status.results\[0\].value.isBuildArtifact must be a string, got a boolean/,
    ],
    ['kind: TaskRun\nstatus: {steps: [{name: s, imageID: 3}]}\n', /status.steps\[0\].imageID must be a string/],
    [
      'kind: TaskRun\nstatus: {steps: [{name: s, results: [{name: r, value: [1]}]}]}\n',
      /status.steps\[0\].results\[0\].value\[0\] must be a string/,
    ],
    ['kind: TaskRun\nspec: {params: [{name: p}]}\n', /spec.params\[0\] \(p\) has no value/],
    ['kind: TaskRun\nmetadata: {labels: {a: 1}}\n', /metadata.labels\["a"\] must be a string/],
    [
      'kind: PipelineRun\nstatus: {childReferences: [{}]}\n',
      /status.childReferences\[0\] must be an object with a name/,
    ],
    ['kind: TaskRun\nstatus: {conditions: [x]}\n', /status.conditions\[0\]/],
  ];
  for (const [text, pattern] of cases) assert.throws(() => parseRunDocuments(text), invalidRun(pattern), text);
});

test('the document is named in multi-document errors, with the run name when it has one', () => {
  assert.throws(
    () => parseRunDocuments(`${TR_YAML}---\nkind: TaskRun\nmetadata: {name: bad}\nspec: {params: 1}\n`),
    invalidRun(/^document 2 \(TaskRun bad\): spec.params must be a list/),
  );
});

test('optional fields may be absent: a bare TaskRun reads with empty metadata and spec', () => {
  const [tr] = parseRunDocuments('kind: TaskRun\napiVersion: tekton.dev/v1\n');
  assert.deepEqual(tr, { kind: 'TaskRun', apiVersion: 'tekton.dev/v1', metadata: {}, spec: {} });
});
