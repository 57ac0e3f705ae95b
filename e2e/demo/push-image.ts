// Pushes a small random image to the stack's registry and prints {repository, digest, ref} as JSON,
// for e2e/demo.sh. Usage: node --import tsx e2e/demo/push-image.ts REGISTRY/REPOSITORY
import { pushRandomImage } from '../lib/index.js';

const repository = process.argv[2];
if (!repository) {
  process.stderr.write('usage: push-image.ts REGISTRY/REPOSITORY\n');
  process.exit(2);
}
const pushed = await pushRandomImage(repository);
process.stdout.write(JSON.stringify({ repository, digest: pushed.digest, ref: pushed.ref }) + '\n');
