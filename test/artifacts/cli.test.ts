// `chainsmith artifacts`: tables and JSON for the user's runs; exit 2 with one line on bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './cli-capture.js';
import { FIXTURES } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function oneLineError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, /^chainsmith artifacts: /);
  assert.match(r.stderr, pattern);
  assert.ok(!/\bat .*\.ts:\d+/.test(r.stderr), 'no stack trace');
}

test('table output names subjects, materials, images and every finding of the ko run', async () => {
  const r = await runCli(['artifacts', join(FIXTURES, 'ko-taskrun.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const out = r.stdout;
  assert.match(out, /^TaskRun ci\/ko-publish-q9w4z {2}\(format in-toto\)$/m);
  assert.match(out, /^Subjects \(5\):$/m);
  assert.match(
    out,
    /^ {2}index\.docker\.io\/example\/ko-sidecar +sha256:871e15e43e3a4c804c648645ba07cccf3094696256f4d70354c775ad339b0e39$/m,
  );
  assert.match(out, /^Materials \(3\):$/m);
  assert.match(out, /^ {2}git\+\.git +sha1:2c4c6cb67abab6e6cb46d0e94b6b646c8523ebf6$/m);
  assert.match(out, /^Images to sign \(4\):$/m);
  assert.match(out, /^Findings \(9\):$/m);
  for (const name of [
    'image_url',
    'IMAGEDIGEST',
    'CHAINS_GIT_URL',
    'lonely_IMAGE_URL',
    'orphan_IMAGE_DIGEST',
    'bad_IMAGE_URL+bad_IMAGE_DIGEST',
    'upper_IMAGE_URL+upper_IMAGE_DIGEST',
    'IMAGES',
    'CHAINS-GIT_COMMIT',
  ]) {
    assert.match(out, new RegExp(`^ {2}\\w+ +${name.replace(/[+]/g, '\\+')} `, 'm'), name);
  }
});

test('--json prints one object per run with the extracted fields', async () => {
  const r = await runCli(['artifacts', '--json', join(FIXTURES, 'pipelinerun-list.yaml')]);
  assert.equal(r.code, 0, r.stderr);
  const reports = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(
    reports.map((x) => [x.kind, x.name, x.format, x.done]),
    [
      ['PipelineRun', 'build-and-push-r8m2k', 'in-toto', true],
      ['TaskRun', 'build-and-push-r8m2k-fetch-source', 'in-toto', true],
      ['TaskRun', 'build-and-push-r8m2k-build-image', 'in-toto', true],
    ],
  );
  assert.deepEqual(reports[0]!.children, ['build-and-push-r8m2k-fetch-source', 'build-and-push-r8m2k-build-image']);
  assert.deepEqual(reports[0]!.subjects, [
    {
      name: 'registry.example.com/team/app',
      digest: { sha256: '60c5764ec3a7ec414236999d1c72c8c39573d26bf77ffacd049ace7fe7d3d2d7' },
    },
  ]);
  assert.deepEqual(reports[1]!.findings, [
    { reason: 'NoArtifacts', result: '', message: (reports[1]!.findings as Array<{ message: string }>)[0]!.message },
  ]);
  assert.equal((reports[2]!.images as unknown[]).length, 1);
});

test('--format selects the extractor (v2alpha4 reads StepAction results); --config supplies the defaults', async () => {
  const file = join(FIXTURES, 'chains/slsa-v2alpha4/taskrun1.json');
  const v02 = JSON.parse((await runCli(['artifacts', '--json', file])).stdout)[0];
  const v1 = JSON.parse((await runCli(['artifacts', '--json', '--format', 'slsa/v2alpha4', file])).stdout)[0];
  assert.deepEqual(
    v02.subjects.map((s: { name: string }) => s.name),
    ['gcr.io/my/image'],
  );
  assert.deepEqual(
    v1.subjects.map((s: { name: string }) => s.name),
    ['gcr.io/my/image/fromstep3', 'gcr.io/my/image'],
  );
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-cli-'));
  await writeFile(
    join(dir, 'cm.yaml'),
    'kind: ConfigMap\napiVersion: v1\ndata:\n  artifacts.taskrun.format: slsa/v2alpha4\n',
  );
  const viaConfig = JSON.parse(
    (await runCli(['artifacts', '--json', '--config', join(dir, 'cm.yaml'), file])).stdout,
  )[0];
  assert.equal(viaConfig.format, 'slsa/v2alpha4');
  assert.equal(viaConfig.subjects.length, 2);
});

test("--deep-inspection adds the executed children's subjects to a PipelineRun", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-cli-'));
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: ['pipelinerun1', 'taskrun1', 'taskrun2'].map((f) =>
      JSON.parse(readFileSync(join(FIXTURES, `chains/pipeline-v1/${f}.json`), 'utf8')),
    ),
  };
  // Chains' fixture has no metadata and no childReferences; name it and tie the children with the label.
  list.items[0].metadata = { name: 'pipelinerun-build' };
  for (const child of list.items.slice(1)) child.metadata.labels['tekton.dev/pipelineRun'] = 'pipelinerun-build';
  await writeFile(join(dir, 'list.json'), JSON.stringify(list));
  const shallow = JSON.parse((await runCli(['artifacts', '--json', join(dir, 'list.json')])).stdout)[0];
  const deep = JSON.parse(
    (await runCli(['artifacts', '--json', '--deep-inspection', join(dir, 'list.json')])).stdout,
  )[0];
  assert.deepEqual(
    shallow.subjects.map((s: { name: string }) => s.name),
    ['test.io/test/image'],
  );
  assert.deepEqual(
    deep.subjects.map((s: { name: string }) => s.name),
    ['gcr.io/my/image', 'test.io/test/image'],
  );
});

test('a run without any hint still succeeds, with a NoArtifacts finding', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-cli-'));
  await writeFile(
    join(dir, 'tr.yaml'),
    'apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: plain}\nspec: {}\nstatus: {conditions: [{type: Succeeded, status: "True"}]}\n',
  );
  const r = await runCli(['artifacts', join(dir, 'tr.yaml')]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Subjects: none/);
  assert.match(r.stdout, /NoArtifacts +- +no subjects/);
});

test('bad input: exit 2 and one line naming the problem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-cli-'));
  await writeFile(join(dir, 'deploy.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n');
  await writeFile(join(dir, 'broken.json'), '{"kind": "TaskRun", ');
  await writeFile(
    join(dir, 'bad-result.yaml'),
    'apiVersion: tekton.dev/v1\nkind: TaskRun\nstatus: {results: [{name: IMAGE_URL, value: 42}]}\n',
  );
  oneLineError(await runCli(['artifacts']), /missing RUN_FILE/);
  oneLineError(await runCli(['artifacts', 'a', 'b']), /expected one RUN_FILE, got 2/);
  oneLineError(await runCli(['artifacts', join(dir, 'nope.yaml')]), /cannot read .*nope\.yaml: no such file/);
  oneLineError(await runCli(['artifacts', dir]), /it is a directory/);
  oneLineError(await runCli(['artifacts', join(dir, 'deploy.yaml')]), /apiVersion "apps\/v1" \(kind "Deployment"\)/);
  oneLineError(await runCli(['artifacts', join(dir, 'broken.json')]), /invalid JSON/);
  oneLineError(
    await runCli(['artifacts', join(dir, 'bad-result.yaml')]),
    /status\.results\[0\]\.value must be a string/,
  );
  oneLineError(
    await runCli(['artifacts', '--format', 'slsa/v3', join(FIXTURES, 'ko-taskrun.json')]),
    /invalid --format "slsa\/v3"; accepted: in-toto, slsa\/v1, slsa\/v2alpha3, slsa\/v2alpha4/,
  );
  oneLineError(await runCli(['artifacts', '--bogus', 'x']), /Unknown option '--bogus'/);
  oneLineError(
    await runCli(['artifacts', '--config', join(dir, 'none.yaml'), join(FIXTURES, 'ko-taskrun.json')]),
    /cannot read .*none\.yaml/,
  );
});

test('--help documents every flag and its default', async () => {
  const r = await runCli(['artifacts', '--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--format F', '--config FILE', '--deep-inspection', '--json', 'default: the config'])
    assert.ok(r.stdout.includes(flag), flag);
});

test('reads stdin with "-" when run as a real process', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'artifacts', '--json', '-'], {
    cwd: ROOT,
    input: readFileSync(join(FIXTURES, 'buildah-taskrun.yaml')),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout)[0].subjects[0].name, 'registry.example.com/team/app');
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'artifacts', '-'], {
    cwd: ROOT,
    input: 'kind: Pod\n',
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'chainsmith artifacts: the document is a Pod, not a TaskRun or PipelineRun\n');
});
