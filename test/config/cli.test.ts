// `chainsmith config check FILE`: "ok" plus the effective configuration, or exit 2 with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../artifacts/cli-capture.js';

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-config-cli-'));
  await writeFile(join(dir, name), text);
  return join(dir, name);
}

test('a valid ConfigMap: ok and a summary of what will be signed, where, and how', async () => {
  const path = await file(
    'chains-config.yaml',
    `apiVersion: v1
kind: ConfigMap
metadata: {name: chains-config, namespace: tekton-chains}
data:
  artifacts.taskrun.format: slsa/v2alpha4
  artifacts.taskrun.storage: oci,tekton
  artifacts.pipelinerun.storage: ""
  artifacts.oci.signer: kms
  signers.kms.kmsref: hashivault://chains
  signers.kms.auth.token: s3cr3t-token
  transparency.enabled: manual
  builder.id: https://example.com/builders/tekton/v1
  chainsmith.retry-horizon: 15m
`,
  );
  const r = await runCli(['config', 'check', path]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'ok');
  assert.match(r.stdout, /^ {2}taskrun +enabled +format slsa\/v2alpha4, storage oci,tekton, signer x509$/m);
  assert.match(
    r.stdout,
    /^ {2}pipelinerun +disabled +format in-toto, storage "" \(disabled\), signer x509, deep inspection off$/m,
  );
  assert.match(r.stdout, /^ {2}oci +enabled +format simplesigning, storage oci, signer kms$/m);
  assert.match(r.stdout, /^ {2}kms +hashivault:\/\/chains, token set$/m);
  assert.match(r.stdout, /^transparency: on \(manual, annotation-gated\), https:\/\/rekor\.sigstore\.dev$/m);
  assert.match(r.stdout, /^builder\.id: +https:\/\/example\.com\/builders\/tekton\/v1$/m);
  assert.match(r.stdout, /retry-horizon 900s/);
  assert.ok(!r.stdout.includes('s3cr3t-token'), 'secrets are never printed');
});

test('--json prints the effective configuration only, with secrets redacted', async () => {
  const path = await file('data.yaml', 'signers.kms.auth.token: s3cr3t-token\nartifacts.oci.storage: ""\n');
  const r = await runCli(['config', 'check', '--json', path]);
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.deepEqual(c.artifacts.oci.storage, []);
  assert.equal(c.signers.kms.auth.token, '<redacted>');
});

test('unknown keys are warnings on stderr with the closest known key; the check still passes', async () => {
  const path = await file('typo.yaml', 'artifacts.taskrun.formats: slsa/v1\nartifacts.taskrun.format: in-toto\n');
  const r = await runCli(['config', 'check', path]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^ok$/m);
  assert.equal(
    r.stderr,
    'warning: unknown key "artifacts.taskrun.formats" is ignored (did you mean "artifacts.taskrun.format"?)\n',
  );
});

test('invalid config: exit 2 and one line naming key, value and accepted values', async () => {
  const cases: Array<[string, RegExp]> = [
    [
      'artifacts.taskrun.storage: tekton,s3\n',
      /^chainsmith config: invalid artifacts\.taskrun\.storage: "tekton,s3" \(item "s3"\); accepted: a comma-separated list of tekton, oci, gcs, docdb, grafeas, kafka, archivista, or "" to disable$/,
    ],
    [
      'artifacts.pipelinerun.enable-deep-inspection: "yes"\n',
      /^chainsmith config: invalid artifacts\.pipelinerun\.enable-deep-inspection: "yes"; accepted: 1, t, T, TRUE, true, True \(true\) or 0, f, F, FALSE, false, False \(false\)$/,
    ],
    ['artifacts.taskrun.format: slsa/v2\n', /accepted: in-toto, slsa\/v1, slsa\/v2alpha3, slsa\/v2alpha4$/],
    ['chainsmith.max-retries: "-1"\n', /invalid chainsmith\.max-retries: "-1"; accepted: a whole number ≥ 0$/],
    ['kind: Deployment\napiVersion: apps/v1\n', /is a Deployment, expected a ConfigMap$/],
    ['a: [\n', /invalid YAML/],
  ];
  for (const [text, pattern] of cases) {
    const r = await runCli(['config', 'check', await file('bad.yaml', text)]);
    assert.equal(r.code, 2, text);
    assert.equal(r.stdout, '', text);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trimEnd(), pattern, text);
  }
});

test('usage errors: missing subcommand or file, unknown subcommand, unreadable file', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['config'], /missing subcommand; usage: chainsmith config check FILE/],
    [['config', 'lint', 'x'], /unknown subcommand "lint"/],
    [['config', 'check'], /missing FILE/],
    [['config', 'check', 'a', 'b'], /expected one FILE, got 2/],
    [
      ['config', 'check', '/nonexistent/chains-config.yaml'],
      /cannot read \/nonexistent\/chains-config\.yaml: no such file/,
    ],
  ];
  for (const [argv, pattern] of cases) {
    const r = await runCli(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  }
});

test('--help explains the accepted files and the exit status', async () => {
  const r = await runCli(['config', '--help']);
  assert.equal(r.code, 0);
  for (const s of ['config check [--json] FILE', 'ConfigMap manifest', 'plain', '--json', 'Exit status: 0', '2 when'])
    assert.ok(r.stdout.includes(s), s);
});
