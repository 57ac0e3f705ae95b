// Docker credential helpers run for real (src/oci/credential-helper.ts): small `docker-credential-*` programs on a
// temporary PATH speak the docker-credential-helpers protocol (`get`, the server on stdin, JSON on stdout).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ChainsmithError } from '../../src/errors.js';
import { runCredentialHelper } from '../../src/oci/credential-helper.js';

let dir: string;
const savedPath = process.env.PATH;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chainsmith-cred-helpers-'));
  const helper = async (name: string, body: string) => {
    await writeFile(join(dir, `docker-credential-${name}`), `#!/bin/sh\n${body}\n`);
    await chmod(join(dir, `docker-credential-${name}`), 0o755);
  };
  // echoes the server it was asked about into the user name, so the test sees what reached it
  await helper(
    'echo',
    '[ "$1" = get ] || exit 3\nserver=$(cat)\nprintf \'{"ServerURL":"%s","Username":"user@%s","Secret":"s3cret"}\' "$server" "$server"',
  );
  await helper('none', 'echo "credentials not found in native keychain"; exit 1');
  await helper('broken', 'echo "s3cret-in-output" ; echo "keychain locked" >&2; exit 1');
  await helper('garbage', 'echo not json');
  process.env.PATH = `${dir}${delimiter}${savedPath ?? ''}`;
});

after(async () => {
  process.env.PATH = savedPath;
  await rm(dir, { recursive: true, force: true });
});

test('a helper gets the server on stdin and its answer is the credential', async () => {
  assert.deepEqual(await runCredentialHelper('echo', 'ghcr.io'), { username: 'user@ghcr.io', secret: 's3cret' });
});

test('"credentials not found" is no credential, not an error', async () => {
  assert.equal(await runCredentialHelper('none', 'ghcr.io'), undefined);
});

test('a failing, missing or garbled helper is an error naming the program, never its output', async () => {
  const refused = (re: RegExp) => (e: unknown) =>
    e instanceof ChainsmithError && re.test(e.message) && !e.message.includes('s3cret');
  await assert.rejects(
    runCredentialHelper('broken', 'ghcr.io'),
    refused(/docker-credential-broken failed: keychain locked/),
  );
  await assert.rejects(runCredentialHelper('absent', 'ghcr.io'), refused(/docker-credential-absent is not on PATH/));
  await assert.rejects(runCredentialHelper('garbage', 'ghcr.io'), refused(/printed no JSON answer/));
  await assert.rejects(runCredentialHelper('../sh', 'ghcr.io'), refused(/is not a program name/));
});
