import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChainsmithError } from '../../src/errors.js';
import { parseChainsConfig } from '../../src/config/parse.js';
import { KafkaStorer, kafkaTarget, type KafkaRecord, type KafkaSender } from '../../src/storage/kafka.js';
import { attestationRequest, configWith, imageSignatureRequest, taskRun } from './service-requests.js';

const KAFKA = {
  'storage.pubsub.provider': 'kafka',
  'storage.pubsub.topic': 'chains',
  'storage.pubsub.kafka.bootstrap.servers': '127.0.0.1:9092',
};

/** Producers that record what they sent; `fail` makes the next sends throw. */
function fakeKafka() {
  const sent: Array<{ topic: string; record: KafkaRecord }> = [];
  const connects: string[][] = [];
  let closed = 0;
  let fail: unknown;
  const connect = async (brokers: string[]): Promise<KafkaSender> => {
    connects.push(brokers);
    return {
      async send(topic, record) {
        if (fail) throw fail;
        sent.push({ topic, record });
      },
      async close() {
        closed++;
      },
    };
  };
  return { sent, connects, connect, closed: () => closed, failWith: (e: unknown) => (fail = e) };
}

test('an attestation: value = envelope bytes, header payload = base64(statement), header signature = envelope', async () => {
  const k = fakeKafka();
  const config = configWith(KAFKA);
  const req = await attestationRequest(taskRun, config);
  await new KafkaStorer(config, k.connect).store(req);
  assert.equal(k.sent.length, 1);
  const { topic, record } = k.sent[0]!;
  assert.equal(topic, 'chains');
  assert.ok(record.value.equals(req.signed.signature));
  assert.deepEqual(Object.keys(record.headers), ['payload', 'signature']);
  assert.equal(record.headers.payload!.toString(), req.signed.payload.toString('base64'));
  assert.ok(record.headers.signature!.equals(req.signed.signature));
});

test('an image signature: the raw DER bytes in the value and the signature header, unchanged', async () => {
  const k = fakeKafka();
  const config = configWith(KAFKA);
  const req = imageSignatureRequest(config);
  await new KafkaStorer(config, k.connect).store(req);
  assert.ok(k.sent[0]!.record.value.equals(req.signed.signature));
  assert.ok(k.sent[0]!.record.headers.signature!.equals(req.signed.signature));
});

test('one producer for every store; comma-separated bootstrap servers are all used', async () => {
  const k = fakeKafka();
  const config = configWith({ ...KAFKA, 'storage.pubsub.kafka.bootstrap.servers': 'k1:9092, k2:9092' });
  const storer = new KafkaStorer(config, k.connect);
  await storer.store(imageSignatureRequest(config));
  await storer.store(imageSignatureRequest(config));
  assert.deepEqual(k.connects, [['k1:9092', 'k2:9092']]);
  await storer.close();
  assert.equal(k.closed(), 1);
  await assert.rejects(storer.store(imageSignatureRequest(config)), (err: ChainsmithError) => err.transient);
});

test('bad pubsub settings are InvalidConfig naming the key, and no producer is created', async () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ ...KAFKA, 'storage.pubsub.provider': 'inmemory' }, /inmemory keeps messages inside the controller/],
    [{ 'storage.pubsub.topic': 'chains', 'storage.pubsub.kafka.bootstrap.servers': 'k:9092' }, /provider is not set/],
    [{ ...KAFKA, 'storage.pubsub.topic': '' }, /storage\.pubsub\.topic is not set/],
    [{ ...KAFKA, 'storage.pubsub.kafka.bootstrap.servers': ' , ' }, /bootstrap\.servers is not set/],
  ];
  for (const [data, message] of cases) {
    const k = fakeKafka();
    await assert.rejects(
      new KafkaStorer(configWith(data), k.connect).store(imageSignatureRequest()),
      (err: ChainsmithError) => {
        assert.equal(err.reason, 'InvalidConfig');
        assert.match(err.message, message);
        return true;
      },
    );
    assert.equal(k.connects.length, 0);
  }
});

test('an unknown provider is refused by the config itself, as in Chains', () => {
  assert.throws(() => parseChainsConfig({ ...KAFKA, 'storage.pubsub.provider': 'gcppubsub' }));
});

test('kafka is refused for PipelineRuns by the config, as in Chains', () => {
  assert.throws(() => parseChainsConfig({ 'artifacts.pipelinerun.storage': 'kafka' }), /kafka/);
  assert.deepEqual(kafkaTarget(configWith(KAFKA)), { topic: 'chains', brokers: ['127.0.0.1:9092'] });
});

test('a broker that is down: transient StorageFailed naming topic and brokers; the next store uses a new producer', async () => {
  const k = fakeKafka();
  const config = configWith(KAFKA);
  const storer = new KafkaStorer(config, k.connect);
  k.failWith(
    Object.assign(new Error('Producing messages failed.'), {
      code: 'PLT_KFK_MULTIPLE',
      errors: [
        Object.assign(new Error('Connection to 127.0.0.1:9092 failed.'), {
          code: 'PLT_KFK_NETWORK',
          cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' }),
        }),
      ],
    }),
  );
  await assert.rejects(storer.store(imageSignatureRequest(config)), (err: ChainsmithError) => {
    assert.equal(err.reason, 'StorageFailed');
    assert.equal(err.transient, true);
    assert.match(
      err.message,
      /^kafka: sending 4d6dd704ef58 to topic chains on 127\.0\.0\.1:9092: Producing messages failed/,
    );
    assert.match(err.message, /ECONNREFUSED/);
    return true;
  });
  k.failWith(undefined);
  await storer.store(imageSignatureRequest(config));
  assert.equal(k.connects.length, 2, 'the failed producer was replaced');
});

test('a refused topic (authorisation) is not retried', async () => {
  const k = fakeKafka();
  const config = configWith(KAFKA);
  k.failWith(Object.assign(new Error('Topic authorization failed.'), { code: 'PLT_KFK_PROTOCOL', canRetry: false }));
  await assert.rejects(
    new KafkaStorer(config, k.connect).store(imageSignatureRequest(config)),
    (err: ChainsmithError) => {
      assert.equal(err.transient, false);
      return true;
    },
  );
});
