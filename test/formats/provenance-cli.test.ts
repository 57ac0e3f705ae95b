// `chainsmith provenance` as a user runs it: a real child process, files on disk, exit codes, stderr lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { FIXTURES, fixture, fixtureText, IMG, type Json } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const BUILDAH = FIXTURES + 'buildah-taskrun.json';
const BUILDAH_APP = '4a1c4b21597c1b4415bdbecb28a3296c6b5e23ca4f9feeb599860a1dac6a0108';
const tmp = mkdtempSync(join(tmpdir(), 'chainsmith-provenance-'));

function write(name: string, content: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function chainsmith(args: string[], stdin?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'provenance', ...args], {
    input: stdin,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], stdin?: string): Json {
  const r = chainsmith(args, stdin);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Like `chainsmith` but asynchronous, so independent cases can run side by side. */
function chainsmithAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'provenance', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Bad input: exit 2, exactly one line on stderr mentioning `mention`, nothing on stdout, no stack trace. */
async function rejects(args: string[], mention: RegExp): Promise<void> {
  const r = await chainsmithAsync(args);
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^chainsmith provenance: /);
  assert.match(lines[0]!, mention);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test('Acceptance: buildah TaskRun → --format slsa/v1 --builder-id gives what Chains would', () => {
  const s = ok(['--format', 'slsa/v1', '--builder-id', 'https://example.com/builders/tekton/v1', BUILDAH]);
  assert.equal(s._type, 'https://in-toto.io/Statement/v0.1');
  assert.equal(s.predicateType, 'https://slsa.dev/provenance/v0.2');
  assert.equal(s.predicate.builder.id, 'https://example.com/builders/tekton/v1');
  assert.equal(s.predicate.buildType, 'tekton.dev/v1/TaskRun');
  // docker.io/example/app:1.4.2 + digest → tag stripped, registry normalised, sha256 hex
  assert.deepEqual(s.subject, [{ name: 'index.docker.io/example/app', digest: { sha256: BUILDAH_APP } }]);
  // step image, sidecar image, git source
  assert.deepEqual(
    s.predicate.materials.map((m: Json) => m.uri),
    ['oci://quay.io/buildah/stable', 'oci://ghcr.io/example/registry-proxy', 'git+https://github.com/example/app.git'],
  );
  // task defaults overlaid by the run's params
  assert.equal(s.predicate.invocation.parameters.DOCKERFILE, './build/Dockerfile');
  assert.equal(s.predicate.invocation.parameters.STORAGE_DRIVER, 'overlay');
  assert.equal(s.predicate.invocation.parameters.IMAGE, 'docker.io/example/app:1.4.2');
  assert.equal(s.predicate.metadata.buildStartedOn, '2026-11-20T10:14:55Z');
  assert.equal(s.predicate.metadata.buildFinishedOn, '2026-11-20T10:16:41Z');
});

test('Acceptance: --format slsa/v2alpha4 gives the SLSA v1.0 shape with runDetails.builder.id and invocationId = uid', () => {
  const s = ok(['--format', 'slsa/v2alpha4', '--builder-id', 'https://example.com/builders/tekton/v1', BUILDAH]);
  assert.equal(s._type, 'https://in-toto.io/Statement/v1');
  assert.equal(s.predicateType, 'https://slsa.dev/provenance/v1');
  assert.equal(s.predicate.runDetails.builder.id, 'https://example.com/builders/tekton/v1');
  assert.equal(s.predicate.runDetails.metadata.invocationId, '5b8f0a6e-3c1d-4e2a-9f7b-1a2b3c4d5e6f');
  assert.equal(s.predicate.runDetails.metadata.startedOn, '2026-11-20T10:14:55Z');
  assert.equal(s.predicate.buildDefinition.buildType, 'https://tekton.dev/chains/v2/slsa');
  assert.deepEqual(s.subject, [{ name: 'index.docker.io/example/app', digest: { sha256: BUILDAH_APP } }]);
});

test('Acceptance: ko-style TaskRun (IMAGES, *_IMAGE_URL pairs, some invalid) → only the valid images, in result order', () => {
  const ko = fileURLToPath(new URL('../fixtures/runs/ko-taskrun.json', import.meta.url));
  const s = ok(['--format', 'slsa/v1', '--builder-id', 'https://example.com/builders/tekton/v1', ko]);
  // pass A (pairs, result order): sidecar (Docker Hub normalised), worker (tag stripped); bad (upper-case hex),
  // upper (upper-case repository), lonely/orphan (unpaired) rejected. Pass B (IMAGES): app, worker (duplicate,
  // merged), cli (tag stripped); broken (no digest) rejected. Then the sha512 *ARTIFACT_URI pair.
  assert.deepEqual(
    s.subject.map((x: Json) => [x.name, Object.keys(x.digest)[0]]),
    [
      ['index.docker.io/example/ko-sidecar', 'sha256'],
      ['registry.example.com/ko/worker', 'sha256'],
      ['registry.example.com/ko/app', 'sha256'],
      ['ghcr.io/example/cli', 'sha256'],
      ['registry.example.com/ko/app.sbom.spdx.json', 'sha512'],
    ],
  );
  assert.equal(s.predicate.builder.id, 'https://example.com/builders/tekton/v1');
  assert.deepEqual(
    s.predicate.materials.slice(0, 2).map((m: Json) => m.uri),
    ['oci://ghcr.io/ko-build/ko', 'oci://docker.io/anchore/syft'],
  );
  const v2 = ok(['--format', 'slsa/v2alpha4', ko]);
  assert.equal(v2.predicate.runDetails.metadata.invocationId, 'a3c9b7e2-0f41-4d2a-8e6b-71c5d9f0e3a4');
  // v2alpha4 does not read *ARTIFACT_URI pairs
  assert.ok(!v2.subject.some((x: Json) => x.name.endsWith('.sbom.spdx.json')));
});

test('default format and builder id come from --config (by run kind); flags override it', () => {
  const cfg = write(
    'chains-config.yaml',
    [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: chains-config, namespace: tekton-chains}',
      'data:',
      '  artifacts.taskrun.format: slsa/v2alpha3',
      '  artifacts.pipelinerun.format: slsa/v2alpha4',
      '  builder.id: https://builders.example.com/config',
      '  builddefinition.buildtype: https://tekton.dev/chains/v2/slsa-tekton',
      '',
    ].join('\n'),
  );
  const tr = ok(['--config', cfg, BUILDAH]);
  assert.equal(tr.predicateType, 'https://slsa.dev/provenance/v1');
  assert.equal(tr.predicate.runDetails.builder.id, 'https://builders.example.com/config');
  assert.equal(tr.predicate.buildDefinition.buildType, 'https://tekton.dev/chains/v2/slsa-tekton');
  assert.equal(tr.predicate.runDetails.byproducts[0].name, 'taskRunResults/IMAGE_DIGEST'); // v2alpha3 naming

  const flagged = ok(['--config', cfg, '--format', 'in-toto', '--builder-id', 'urn:flag', BUILDAH]);
  assert.equal(flagged.predicateType, 'https://slsa.dev/provenance/v0.2');
  assert.equal(flagged.predicate.builder.id, 'urn:flag');

  const typed = ok(['--config', cfg, '--build-type', 'https://tekton.dev/chains/v2/slsa', BUILDAH]);
  assert.equal(typed.predicate.buildDefinition.buildType, 'https://tekton.dev/chains/v2/slsa');

  const list = write('pr-list.json', {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      fixture('v2alpha4-pipelinerun1.json'),
      fixture('v2alpha4-taskrun1.json'),
      fixture('v2alpha4-taskrun2.json'),
    ],
  });
  const pr = ok(['--config', cfg, list]);
  // pipelinerun format is v2alpha4: run-named byproducts
  assert.equal(pr.predicate.runDetails.byproducts[0].name, 'pipelineRunResults/pipelinerun-build/CHAINS-GIT_COMMIT');
});

test('no config: in-toto with builder id https://tekton.dev/chains/v2', () => {
  const s = ok([BUILDAH]);
  assert.equal(s.predicateType, 'https://slsa.dev/provenance/v0.2');
  assert.equal(s.predicate.builder.id, 'https://tekton.dev/chains/v2');
});

test('failed runs are done: Chains signs them, so provenance is printed', () => {
  const failed = fixture<Json>('buildah-taskrun.json');
  failed.status.conditions[0].status = 'False';
  failed.status.conditions[0].reason = 'Failed';
  const s = ok([write('failed.json', failed)]);
  assert.equal(s.predicate.buildType, 'tekton.dev/v1/TaskRun');
});

test('a List with a PipelineRun and its children: children matched by childReferences, in pipeline task order', () => {
  const list = write('list.json', {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      fixture('pipeline-v1-taskrun1.json'),
      fixture('pipeline-v1-pipelinerun1.json'),
      fixture('pipeline-v1-taskrun2.json'),
    ],
  });
  const s = ok([list]);
  assert.equal(s.predicate.buildType, 'tekton.dev/v1/PipelineRun');
  assert.deepEqual(
    s.predicate.buildConfig.tasks.map((t: Json) => t.name),
    ['git-clone', 'build'],
  );
  assert.deepEqual(s.subject, [{ name: 'test.io/test/image', digest: { sha256: IMG } }]);

  const deep = ok(['--deep-inspection', list]);
  assert.deepEqual(
    deep.subject.map((x: Json) => x.name),
    ['gcr.io/my/image', 'test.io/test/image'],
  );
});

test('--child files supply the children; a missing child is a warning, not an error', () => {
  const s = ok([
    '--child',
    FIXTURES + 'pipeline-v1-taskrun1.json',
    '--child',
    FIXTURES + 'pipeline-v1-taskrun2.json',
    FIXTURES + 'pipeline-v1-pipelinerun1.json',
  ]);
  assert.equal(s.predicate.buildConfig.tasks.length, 2);

  const r = chainsmith(['--child', FIXTURES + 'pipeline-v1-taskrun1.json', FIXTURES + 'pipeline-v1-pipelinerun1.json']);
  assert.equal(r.code, 0);
  assert.deepEqual(
    JSON.parse(r.stdout).predicate.buildConfig.tasks.map((t: Json) => t.name),
    ['build'],
  );
  assert.match(r.stderr, /warning: child TaskRun git-clone \(pipeline task git-clone\) was not supplied/);
});

test('reads stdin with -, YAML too; --pretty indents the same statement', () => {
  const compact = chainsmith([BUILDAH]).stdout;
  const fromStdin = chainsmith(['-'], fixtureText('buildah-taskrun.json'));
  assert.equal(fromStdin.code, 0);
  assert.equal(fromStdin.stdout, compact);
  const yaml = chainsmith(['-'], toYaml(fixture('buildah-taskrun.json')));
  assert.equal(yaml.code, 0, yaml.stderr);
  assert.equal(yaml.stdout, compact);
  const pretty = chainsmith(['--pretty', BUILDAH]);
  assert.equal(pretty.code, 0);
  assert.match(pretty.stdout, /^\{\n {2}"_type": "https:\/\/in-toto.io\/Statement\/v0.1",\n/);
  assert.deepEqual(JSON.parse(pretty.stdout), JSON.parse(compact));
  // compact output is the exact signed form: one line, no spaces after separators
  assert.equal(compact.split('\n').length, 2);
  assert.ok(
    compact.startsWith('{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"index.docker.io/example/app"'),
  );
});

test('same run file → byte-identical stdout on every invocation', () => {
  for (const format of ['in-toto', 'slsa/v2alpha3', 'slsa/v2alpha4']) {
    const a = chainsmith(['--format', format, BUILDAH]);
    const b = chainsmith(['--format', format, BUILDAH]);
    assert.equal(a.code, 0);
    assert.equal(a.stdout, b.stdout, format);
  }
});

test('bad input: exit 2 with one line that names the problem', async () => {
  const cases: Array<Promise<void>> = [];
  cases.push(rejects([join(tmp, 'nope.json')], /no such file/));
  cases.push(rejects([tmp], /directory/));
  cases.push(
    rejects(
      [write('cm.json', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: {} })],
      /ConfigMap.*TaskRun or PipelineRun/,
    ),
  );
  cases.push(rejects([write('garbage.json', '{"kind": "TaskRun", "metadata": ')], /garbage\.json/));

  const running = fixture<Json>('buildah-taskrun.json');
  running.status.conditions[0].status = 'Unknown';
  running.status.conditions[0].reason = 'Running';
  cases.push(rejects([write('running.json', running)], /not done: its Succeeded condition is Unknown \(Running\)/));
  const fresh = fixture<Json>('buildah-taskrun.json');
  delete fresh.status.conditions;
  cases.push(rejects([write('fresh.json', fresh)], /not done: it has no Succeeded condition/));

  cases.push(
    rejects(
      ['--config', write('bad-config.yaml', 'artifacts.taskrun.format: slsa/v9\n'), BUILDAH],
      /invalid config .*artifacts\.taskrun\.format/,
    ),
  );
  cases.push(rejects(['--config', join(tmp, 'missing.yaml'), BUILDAH], /invalid config .*no such file/));
  cases.push(
    rejects(
      ['--format', 'slsa/v9', BUILDAH],
      /unknown format "slsa\/v9" \(accepted: in-toto, slsa\/v1, slsa\/v2alpha3, slsa\/v2alpha4\)/,
    ),
  );
  cases.push(rejects(['--format', 'simplesigning', BUILDAH], /unknown format "simplesigning"/));
  cases.push(rejects(['--build-type', 'https://example.com/x', BUILDAH], /unknown build type/));
  cases.push(rejects([], /missing RUN_FILE/));
  cases.push(rejects([BUILDAH, BUILDAH], /expected one RUN_FILE/));
  cases.push(rejects(['--frobnicate', BUILDAH], /frobnicate/));
  cases.push(
    rejects(['--child', FIXTURES + 'pipeline-v1-taskrun1.json', BUILDAH], /--child is only for a PipelineRun/),
  );
  cases.push(
    rejects(
      ['--child', FIXTURES + 'pipeline-v1-pipelinerun1.json', FIXTURES + 'pipeline-v1-pipelinerun1.json'],
      /children are TaskRuns/,
    ),
  );
  cases.push(
    rejects(
      [
        write('two.json', {
          kind: 'List',
          apiVersion: 'v1',
          items: [fixture('buildah-taskrun.json'), fixture('v2alpha3-taskrun1.json')],
        }),
      ],
      /2 TaskRuns and no PipelineRun/,
    ),
  );

  const badImage = fixture<Json>('buildah-taskrun.json');
  badImage.status.steps[0].imageID = 'quay.io/buildah/stable:v1';
  cases.push(
    rejects([write('bad-image.json', badImage)], /cannot build in-toto provenance: .*quay\.io\/buildah\/stable:v1/),
  );
  await Promise.all(cases);
});

test('--help explains every flag', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'provenance', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const flag of [
    '--format',
    '--config',
    '--builder-id',
    '--build-type',
    '--deep-inspection',
    '--child',
    '--pretty',
    'RUN_FILE|-',
    'Exit status',
  ]) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});
