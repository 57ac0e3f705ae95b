// Which MongoDB server the `docdb` backend writes to, with Chains' precedence (pkg/chains/storage/docdb):
// `storage.docdb.mongo-server-url-path` (a file) > `storage.docdb.mongo-server-url-dir` (its `MONGO_SERVER_URL`
// file) > `storage.docdb.mongo-server-url` > the `MONGO_SERVER_URL` environment variable. Chains watches the files
// with fsnotify and rebuilds the backend when the URL changes; chainsmith reads them on every store (a few bytes), so a
// rotated Kubernetes secret takes effect with the next store and no watcher can miss a symlink swap.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError, messageOf } from '../errors.js';
import { invalidConfig } from './backend-errors.js';

const ENV = 'MONGO_SERVER_URL';

/** Where the server URL may come from; injectable for tests. */
export interface ServerUrlSources {
  env?: NodeJS.ProcessEnv;
  readFile?: (path: string) => Promise<string>;
  isDirectory?: (path: string) => Promise<boolean | undefined>;
}

/**
 * The server URL the next store uses; throws InvalidConfig when nothing names one, StorageFailed when a file is
 * missing.
 */
export async function resolveMongoServerUrl(
  docdb: ChainsConfig['storage']['docdb'],
  sources: ServerUrlSources = {},
): Promise<string> {
  const read = sources.readFile ?? ((p: string) => readFile(p, 'utf8'));
  if (docdb.mongoServerUrlPath) return fromFile(docdb.mongoServerUrlPath, 'storage.docdb.mongo-server-url-path', read);
  if (docdb.mongoServerUrlDir) {
    const dir = docdb.mongoServerUrlDir;
    const isDir = await (sources.isDirectory ?? isDirectory)(dir);
    if (isDir === false) throw invalidConfig('docdb', `storage.docdb.mongo-server-url-dir ${dir} is not a directory`);
    // a missing directory is a secret not mounted yet: retried, like a missing file
    return fromFile(join(dir, ENV), 'storage.docdb.mongo-server-url-dir', read);
  }
  if (docdb.mongoServerUrl) return docdb.mongoServerUrl;
  const env = (sources.env ?? process.env)[ENV];
  if (env) return env;
  throw invalidConfig(
    'docdb',
    `mongo docstore configured but ${ENV} environment variable not set, supply one of ` +
      'storage.docdb.mongo-server-url-path, storage.docdb.mongo-server-url-dir, storage.docdb.mongo-server-url ' +
      `or set ${ENV}`,
  );
}

async function fromFile(path: string, key: string, read: (p: string) => Promise<string>): Promise<string> {
  let text: string;
  try {
    text = await read(path);
  } catch (err) {
    // the secret may not be mounted yet (or is being rotated): worth retrying
    throw new ChainsmithError(
      'StorageFailed',
      `docdb: reading the MongoDB server URL from ${path} (${key}): ${messageOf(err)}`,
      {
        transient: true,
        cause: err,
      },
    );
  }
  const url = text.replace(/[\r\n]+$/, '');
  if (!url)
    throw new ChainsmithError(
      'StorageFailed',
      `docdb: ${path} (${key}) is empty; it must hold the MongoDB server URL`,
      {
        transient: true,
      },
    );
  return url;
}

async function isDirectory(path: string): Promise<boolean | undefined> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return undefined;
  }
}
