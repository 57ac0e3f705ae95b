// Reads back the `docdb` backend: the documents Chains' docstore layout keys by short key (src/storage/docdb.ts) —
// the run's own `<kind>-<uid>`, and the 12-hex keys of the image digests its results or its stored provenance name —
// from the collection of `storage.docdb.url` on the server of MONGO_SERVER_URL (resolved as the storer does).
import type { ChainsConfig } from '../../config/types.js';
import type { Run } from '../../tekton/types.js';
import { displayUrl, isNetworkError, storageFailed } from '../backend-errors.js';
import { openMongoClient, parseDocdbUrl, isTransientMongoError, type DocdbCollection } from '../docdb.js';
import { resolveMongoServerUrl, type ServerUrlSources } from '../docdb-server-url.js';
import { resultDigests, shortKeyOf, statementDigests, uniqueDigests } from './digests.js';
import { ownShortKey, type StoredReader, type StoredSignature } from './types.js';

/** A stored document as the driver returns it. */
export type StoredDocument = Record<string, unknown>;

/** What the reader needs from a MongoDB client. */
export interface MongoReader {
  /** documents whose `field` is one of `keys` */
  find(database: string, collection: string, field: string, keys: string[]): Promise<StoredDocument[]>;
  close(): Promise<void>;
}

export type MongoReaderConnector = (serverUrl: string) => Promise<MongoReader>;

/** The bytes of a BSON binary (a driver Binary, a Buffer, or a Uint8Array). */
function bytesOf(v: unknown): Buffer | undefined {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  const inner = (v as { buffer?: unknown } | null)?.buffer;
  if (inner instanceof Uint8Array) return Buffer.from(inner);
  return undefined;
}

/** The `docdb` reader. */
export class DocdbReader implements StoredReader {
  readonly name = 'docdb';
  readonly location: string;
  private readonly target: DocdbCollection;
  private client: { url: string; reader: Promise<MongoReader> } | undefined;

  constructor(
    private readonly config: ChainsConfig,
    private readonly connect: MongoReaderConnector = connectMongoReader,
    private readonly sources: ServerUrlSources = {},
  ) {
    this.target = parseDocdbUrl(config.storage.docdb.url);
    this.location = `mongo://${this.target.database}/${this.target.collection}`;
  }

  async read(run: Run): Promise<StoredSignature[]> {
    const url = await resolveMongoServerUrl(this.config.storage.docdb, this.sources);
    const where = `${this.location} on ${displayUrl(url)}`;
    const mongo = await this.open(url, where);
    // `id_field=name` keys the document by Name (`_id` holds it); another id field leaves Name to search by
    const field = this.target.keyField === 'Name' ? '_id' : 'Name';
    const find = async (keys: string[]): Promise<StoredDocument[]> => {
      try {
        return await mongo.find(this.target.database, this.target.collection, field, keys);
      } catch (err) {
        throw storageFailed('docdb', `reading ${keys.join(', ')} from ${where}`, err, isTransientMongoError(err));
      }
    };
    const own = ownShortKey(run);
    const fromResults = resultDigests(run).map((d) => shortKeyOf(d.hex));
    const docs = await find([own, ...new Set(fromResults)]);
    const ownDoc = docs.find((d) => this.keyOf(d) === own);
    const named = ownDoc ? statementDigests(bytesOf(ownDoc.Signed) ?? Buffer.alloc(0)) : [];
    const more = uniqueDigests(named)
      .map((d) => shortKeyOf(d.hex))
      .filter((k) => !docs.some((d) => this.keyOf(d) === k));
    if (more.length > 0) docs.push(...(await find([...new Set(more)])));
    return docs
      .map((d) => this.entryOf(d, where))
      .sort((a, b) => (a.shortKey === own ? -1 : b.shortKey === own ? 1 : a.shortKey.localeCompare(b.shortKey)));
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await (await c.reader.catch(() => undefined))?.close();
  }

  private keyOf(doc: StoredDocument): string {
    return String(this.target.keyField === 'Name' ? doc._id : doc.Name);
  }

  private entryOf(doc: StoredDocument, where: string): StoredSignature {
    const shortKey = this.keyOf(doc);
    const payload = bytesOf(doc.Signed);
    const signature = typeof doc.Signature === 'string' ? Buffer.from(doc.Signature, 'base64') : undefined;
    const entry: StoredSignature = {
      shortKey,
      payload: payload ?? Buffer.alloc(0),
      signature: signature ?? Buffer.alloc(0),
      where: `document ${shortKey} in ${where}`,
    };
    if (typeof doc.Cert === 'string' && doc.Cert) entry.cert = doc.Cert;
    if (typeof doc.Chain === 'string' && doc.Chain) entry.chain = doc.Chain;
    if (!payload?.length || !signature?.length)
      entry.problem = `document ${shortKey}: ${payload?.length ? 'Signature' : 'Signed'} is missing or empty`;
    return entry;
  }

  private async open(url: string, where: string): Promise<MongoReader> {
    if (this.client?.url !== url) {
      await this.close();
      this.client = { url, reader: this.connect(url) };
    }
    try {
      return await this.client.reader;
    } catch (err) {
      this.client = undefined;
      throw storageFailed('docdb', `connecting to ${where}`, err, isNetworkError(err) || isTransientMongoError(err));
    }
  }
}

/** A MongoReader backed by the official driver, loaded on first use. */
async function connectMongoReader(serverUrl: string): Promise<MongoReader> {
  const client = await openMongoClient(serverUrl);
  return {
    async find(database, collection, field, keys) {
      return client
        .db(database)
        .collection<StoredDocument>(collection)
        .find({ [field]: { $in: keys } })
        .toArray();
    },
    close: () => client.close(),
  };
}
