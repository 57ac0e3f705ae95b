// Test only: makes cloud host names (ECR, Google, ACR, Entra) reach loopback stand-ins in a child Node process without
// /etc/hosts. Load it first: NODE_OPTIONS=--import=<absolute path of this file>. It reads CHAINSMITH_TEST_HOST_ALIASES,
// a comma-separated list of
//   name=ip                e.g. chainsmith.azurecr.io=127.0.0.1            (dns.lookup of `name` answers `ip`)
//   name:port=ip:port      e.g. login.microsoftonline.com:443=127.0.0.1:41234
//                          (also a connection to name:port goes to the second port: for endpoints SDKs reach on 443)
// and patches dns.lookup and dns.promises.lookup (which node:net, and so http, https, tls and fetch, resolve with)
// and net.Socket#connect (for the port rewrites). TLS still sees the original name: SNI and certificate checks are
// unchanged. Names are matched case-insensitively and exactly; every other name resolves as usual.
import dns from 'node:dns';
import net from 'node:net';
import process from 'node:process';
import { syncBuiltinESMExports } from 'node:module';

/** @type {Map<string, string>} name → address */
const addresses = new Map();
/** @type {Map<string, number>} `name:port` → port */
const ports = new Map();

for (const entry of (process.env.CHAINSMITH_TEST_HOST_ALIASES ?? '').split(',')) {
  const item = entry.trim();
  if (!item) continue;
  const m = /^([A-Za-z0-9.-]+)(?::(\d+))?=([0-9.]+|\[[0-9a-fA-F:]+\])(?::(\d+))?$/.exec(item);
  if (!m || (m[2] === undefined) !== (m[4] === undefined)) {
    throw new Error(
      `CHAINSMITH_TEST_HOST_ALIASES: cannot read ${JSON.stringify(item)} (want name=ip or name:port=ip:port)`,
    );
  }
  const name = m[1].toLowerCase();
  const address = m[3].replace(/^\[|\]$/g, '');
  if (net.isIP(address) === 0) throw new Error(`CHAINSMITH_TEST_HOST_ALIASES: ${address} is not an IP address`);
  addresses.set(name, address);
  if (m[2] !== undefined) ports.set(`${name}:${Number(m[2])}`, Number(m[4]));
}

if (addresses.size > 0) {
  const originalLookup = dns.lookup;
  const originalPromisesLookup = dns.promises.lookup;

  /** @param {unknown} hostname */
  const aliasOf = (hostname) => (typeof hostname === 'string' ? addresses.get(hostname.toLowerCase()) : undefined);

  /**
   * The answer dns.lookup would give for `address` under `options` (number family or { family, all }).
   * @param {string} address
   * @param {unknown} options
   */
  const answer = (address, options) => {
    const family = net.isIP(address);
    const all = typeof options === 'object' && options !== null && /** @type {{ all?: boolean }} */ (options).all;
    return all ? { all: true, list: [{ address, family }] } : { all: false, address, family };
  };

  /** @type {typeof dns.lookup} */
  const lookup = /** @type {typeof dns.lookup} */ (
    function lookup(hostname, options, callback) {
      const address = aliasOf(hostname);
      if (address === undefined) return Reflect.apply(originalLookup, dns, arguments);
      const cb = typeof options === 'function' ? options : callback;
      const a = answer(address, typeof options === 'function' ? undefined : options);
      process.nextTick(() => (a.all ? cb(null, a.list) : cb(null, a.address, a.family)));
      return {};
    }
  );
  dns.lookup = lookup;
  dns.promises.lookup = /** @type {typeof dns.promises.lookup} */ (
    async function lookup(hostname, options) {
      const address = aliasOf(hostname);
      if (address === undefined) return Reflect.apply(originalPromisesLookup, dns.promises, [hostname, options]);
      const a = answer(address, options);
      return a.all ? a.list : { address: a.address, family: a.family };
    }
  );

  if (ports.size > 0) {
    const originalConnect = net.Socket.prototype.connect;
    /**
     * The connect options with the port rewritten, or undefined when `options` is not an aliased name:port.
     * @param {unknown} options
     */
    const rewrite = (options) => {
      if (typeof options !== 'object' || options === null) return undefined;
      const o = /** @type {{ host?: unknown; port?: unknown; path?: unknown }} */ (options);
      if (o.path || typeof o.host !== 'string') return undefined; // a path is an IPC socket (http passes null)
      const port = ports.get(`${o.host.toLowerCase()}:${Number(o.port)}`);
      return port === undefined ? undefined : { ...o, port };
    };
    net.Socket.prototype.connect = /** @type {typeof net.Socket.prototype.connect} */ (
      function connect(...args) {
        const first = args[0];
        if (Array.isArray(first)) {
          // net.connect() hands over its normalized [options, callback] array, marked with a symbol: keep the mark
          const options = rewrite(first[0]);
          if (options) {
            const copy = [options, ...first.slice(1)];
            for (const s of Object.getOwnPropertySymbols(first)) Object.defineProperty(copy, s, { value: first[s] });
            args[0] = copy;
          }
        } else if (typeof first === 'object' && first !== null) {
          const options = rewrite(first);
          if (options) args[0] = options;
        } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
          const host = typeof args[1] === 'string' ? args[1] : undefined;
          const options = host === undefined ? undefined : rewrite({ host, port: first });
          if (options) args.splice(0, 2, options);
        }
        return Reflect.apply(originalConnect, this, args);
      }
    );
  }
  // `import { lookup } from 'node:dns'` bindings follow the patched functions too
  syncBuiltinESMExports();
}
