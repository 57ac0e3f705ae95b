// Storage backend `docdb` (spec §4.4, Chains pkg/chains/storage/docdb): one document per signature in the
// collection of `storage.docdb.url`, `mongo://<database>/<collection>?id_field=<field>`, written as Chains' go-cloud
// docstore writes its SignedDocument struct through the MongoDB driver (the `mongodb` package here):
//   { _id: <key>, Signed: <payload bytes, BSON binary>, Signature: base64(signature), Cert: PEM, Chain: PEM,
//     Object: <payload parsed as JSON, numbers as doubles>, Name: <shortKey> }
// <key> is the value of the struct field `id_field` names (matched case-insensitively, as docstore does: `name` →
// Name = shortKey); docstore then deletes the field spelled exactly as `id_field` — with `id_field=name` nothing
// (the field is `Name`), so `_id` and `Name` both hold the short key. A store replaces the document (upsert).
// The server is MONGO_SERVER_URL, resolved per store as Chains resolves it (docdb-server-url.ts), so a rotated
// secret file takes effect without a restart. Chains' other docstore schemes (firestore://, dynamodb://) are
// refused with InvalidConfig: chainsmith has no client for them.
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError } from '../errors.js';
import { displayUrl, invalidConfig, isNetworkError, redactCredentials, storageFailed } from './backend-errors.js';
import { ClientSlot } from './client-slot.js';
import { resolveMongoServerUrl, type ServerUrlSources } from './docdb-server-url.js';
import type { Storer, StoreRequest, StoreResult } from './storer.js';

/** Where documents go, from `storage.docdb.url`. */
export interface DocdbCollection {
  database: string;
  collection: string;
  /** the `id_field` query parameter as written */
  idField: string;
  /** the SignedDocument field it selects (case-insensitive match), whose value becomes `_id` */
  keyField: KeyField;
}

/** The fields of Chains' SignedDocument, in its struct order. */
const FIELDS = ['Signed', 'Signature', 'Cert', 'Chain', 'Object', 'Name'] as const;
type KeyField = 'Signature' | 'Cert' | 'Chain' | 'Name';

/** Parses `storage.docdb.url`; throws InvalidConfig with what is wrong and what would work. */
export function parseDocdbUrl(url: string | undefined): DocdbCollection {
  if (!url?.trim())
    throw invalidConfig(
      'docdb',
      'storage.docdb.url is not set; use mongo://<database>/<collection>?id_field=name ' +
        '(e.g. mongo://chains/attestations?id_field=name)',
    );
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw invalidConfig(
      'docdb',
      `storage.docdb.url ${displayUrl(url)} is not a URL; use mongo://<database>/<collection>?id_field=name`,
    );
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme === 'firestore' || scheme === 'dynamodb')
    throw invalidConfig(
      'docdb',
      `storage.docdb.url scheme ${scheme}:// is not supported by chainsmith ` +
        `(it has no ${scheme === 'firestore' ? 'Firestore' : 'DynamoDB'} client); ` +
        'supported: mongo://<database>/<collection>?id_field=name ' +
        '(MongoDB, Amazon DocumentDB, Azure Cosmos DB for MongoDB, FerretDB)',
    );
  if (scheme !== 'mongo')
    throw invalidConfig(
      'docdb',
      `storage.docdb.url scheme ${scheme}:// is unknown; supported: mongo://<database>/<collection>?id_field=name`,
    );
  const database = decodeURIComponent(u.host);
  const collection = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database)
    throw invalidConfig('docdb', `storage.docdb.url ${u.href} has no database (mongo://<database>/<collection>)`);
  if (!collection)
    throw invalidConfig('docdb', `storage.docdb.url ${u.href} has no collection (mongo://<database>/<collection>)`);
  const idField = u.searchParams.get('id_field') ?? '';
  const revisionField = u.searchParams.get('revision_field') ?? '';
  for (const param of u.searchParams.keys())
    if (param !== 'id_field' && param !== 'revision_field')
      throw invalidConfig(
        'docdb',
        `storage.docdb.url has the query parameter "${param}"; only id_field and revision_field are known`,
      );
  if (!idField)
    // Chains opens such a collection and then fails every store with "missing document key"
    throw invalidConfig(
      'docdb',
      `storage.docdb.url ${u.href} has no id_field; add ?id_field=name to key documents by the signature's short key`,
    );
  const keyField = FIELDS.find((f) => f.toLowerCase() === idField.toLowerCase());
  if (!keyField)
    throw invalidConfig(
      'docdb',
      `storage.docdb.url id_field=${idField} names no document field; use id_field=name (fields: ${FIELDS.join(', ')})`,
    );
  if (keyField === 'Signed' || keyField === 'Object')
    throw invalidConfig(
      'docdb',
      `storage.docdb.url id_field=${idField} selects ${keyField}, which is not a string; use id_field=name`,
    );
  if (revisionField && FIELDS.some((f) => f.toLowerCase() === revisionField.toLowerCase()))
    throw invalidConfig(
      'docdb',
      `storage.docdb.url revision_field=${revisionField} names a document field; leave it out`,
    );
  return { database, collection, idField, keyField };
}

/** The document Chains' docstore writes for one signature; `double` wraps JSON numbers (Go decodes them as float64). */
export function signedDocument(
  req: Pick<StoreRequest, 'signed' | 'shortKey'>,
  target: Pick<DocdbCollection, 'idField' | 'keyField'>,
  double: (n: number) => unknown = (n) => n,
): { id: string; document: Record<string, unknown> } {
  let object: unknown;
  try {
    object = JSON.parse(req.signed.payload.toString('utf8'), (_k, v: unknown) =>
      typeof v === 'number' ? double(v) : v,
    );
  } catch (err) {
    throw new ChainsmithError(
      'StorageFailed',
      `docdb: the payload of ${req.shortKey} is not JSON: ${(err as Error).message}`,
    );
  }
  const fields: Record<string, unknown> = {
    Signed: req.signed.payload,
    Signature: req.signed.signature.toString('base64'),
    Cert: req.signed.cert,
    Chain: req.signed.chain,
    Object: object,
    Name: req.shortKey,
  };
  const id = fields[target.keyField] as string;
  if (!id)
    throw new ChainsmithError(
      'StorageFailed',
      `docdb: missing document key: ${target.keyField} is empty for ${req.shortKey}`,
    );
  const document: Record<string, unknown> = { _id: id };
  for (const [k, v] of Object.entries(fields)) if (k !== target.idField) document[k] = v;
  return { id, document };
}

/** The part of a MongoDB client the backend uses. */
export interface MongoWriter {
  /** replaces (or inserts) the document with `_id` = id */
  replace(database: string, collection: string, id: string, document: Record<string, unknown>): Promise<void>;
  /** a BSON double, so stored numbers have the type Chains' Go writer gives them */
  double(n: number): unknown;
  close(): Promise<void>;
}

/** Connects to a MongoDB server URL (`mongodb://` or `mongodb+srv://`). */
export type MongoConnector = (serverUrl: string) => Promise<MongoWriter>;

/** The `docdb` backend. */
export class DocdbStorer implements Storer {
  readonly name = 'docdb';
  readonly settings: string;
  private readonly target: DocdbCollection | ChainsmithError;
  private slot: { url: string; slot: ClientSlot<MongoWriter> } | undefined;

  constructor(
    private readonly config: ChainsConfig,
    private readonly connect: MongoConnector = connectMongo,
    private readonly sources: ServerUrlSources = {},
  ) {
    this.settings = docdbSettings(config);
    try {
      this.target = parseDocdbUrl(config.storage.docdb.url);
    } catch (err) {
      this.target = err as ChainsmithError;
    }
  }

  async store(req: StoreRequest): Promise<StoreResult> {
    const target = this.target;
    if (target instanceof ChainsmithError) throw target;
    const serverUrl = await resolveMongoServerUrl(this.config.storage.docdb, this.sources);
    const slot = this.slotFor(serverUrl);
    const where = `mongo://${target.database}/${target.collection} on ${displayUrl(serverUrl)}`;
    try {
      await slot.use(async (mongo) => {
        const { id, document } = signedDocument(req, target, (n) => mongo.double(n));
        await mongo.replace(target.database, target.collection, id, document);
      });
    } catch (err) {
      if (err instanceof ChainsmithError) throw err;
      if (isMongoParseError(err))
        throw invalidConfig(
          'docdb',
          `the MongoDB server URL ${displayUrl(serverUrl)} is not valid: ${redactCredentials((err as Error).message)}`,
        );
      const transient = isTransientMongoError(err);
      if (transient) slot.reset();
      throw storageFailed('docdb', `writing ${req.shortKey} to ${where}`, err, transient);
    }
    return {};
  }

  async close(): Promise<void> {
    const current = this.slot;
    this.slot = undefined;
    await current?.slot.close();
  }

  /** The client for `url`; a changed server URL (rotated secret) closes the old client once its stores finish. */
  private slotFor(url: string): ClientSlot<MongoWriter> {
    if (this.slot?.url === url) return this.slot.slot;
    void this.slot?.slot.close();
    const slot = new ClientSlot<MongoWriter>(
      'docdb',
      () => this.connect(url),
      (m) => m.close(),
    );
    this.slot = { url, slot };
    return slot;
  }
}

/** The keys the `docdb` backend is built from. */
export function docdbSettings(config: ChainsConfig): string {
  const d = config.storage.docdb;
  return JSON.stringify([d.url ?? '', d.mongoServerUrl ?? '', d.mongoServerUrlDir ?? '', d.mongoServerUrlPath ?? '']);
}

const TRANSIENT_MONGO_ERRORS = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
  'PoolClearedError',
]);
// ShutdownInProgress, PrimarySteppedDown, NotWritablePrimary, InterruptedAtShutdown, HostUnreachable,
// HostNotFound, NetworkTimeout, SocketException, and a duplicate key from two concurrent upserts of one key
const TRANSIENT_MONGO_CODES = new Set([91, 189, 10107, 11600, 6, 7, 89, 9001, 11000]);

/** True for MongoDB failures worth retrying: unreachable server, elections, retryable writes. */
export function isTransientMongoError(err: unknown): boolean {
  if (isNetworkError(err)) return true;
  const e = err as { name?: unknown; code?: unknown; hasErrorLabel?: (label: string) => boolean };
  if (typeof e.name === 'string' && TRANSIENT_MONGO_ERRORS.has(e.name)) return true;
  if (typeof e.code === 'number' && TRANSIENT_MONGO_CODES.has(e.code)) return true;
  return typeof e.hasErrorLabel === 'function' && e.hasErrorLabel('RetryableWriteError');
}

function isMongoParseError(err: unknown): boolean {
  const name = (err as { name?: unknown }).name;
  return name === 'MongoParseError' || name === 'MongoInvalidArgumentError' || name === 'MongoAPIError';
}

/** A connected client of the official driver (loaded on first use, so an unused backend costs no memory). */
export async function openMongoClient(serverUrl: string): Promise<import('mongodb').MongoClient> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(serverUrl, {
    appName: 'chainsmith',
    serverSelectionTimeoutMS: 10_000,
    connectTimeoutMS: 10_000,
  });
  try {
    await client.connect();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return client;
}

/** A MongoWriter backed by the official driver. */
async function connectMongo(serverUrl: string): Promise<MongoWriter> {
  const { Double } = await import('mongodb');
  const client = await openMongoClient(serverUrl);
  return {
    async replace(database, collection, id, document) {
      await client
        .db(database)
        .collection<{ _id: string }>(collection)
        .replaceOne({ _id: id }, document, { upsert: true });
    },
    double: (n) => new Double(n),
    close: () => client.close(),
  };
}
