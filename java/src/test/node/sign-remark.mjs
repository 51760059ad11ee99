// polkadot.js, independently of the engine, builds and signs System.remark_with_event for the chain at the given
// endpoint: an ed25519 key from a 32-byte hex seed, the given nonce, a mortal era of the given period born at the
// given block, tip 0. Prints {"hex": the signed extrinsic, "hash": its hash}; exits 1 on any failure.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { hexToU8a } from '@polkadot/util';

const [url, seed, nonce, period, birth, remark] = process.argv.slice(2);
const provider = new WsProvider(url, 1000, {}, 30000);
try {
  await cryptoWaitReady();
  const api = await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
  const pair = new Keyring({ type: 'ed25519' }).addFromSeed(hexToU8a(seed));
  const blockHash = await api.rpc.chain.getBlockHash(Number(birth));
  const era = api.createType('ExtrinsicEra', { current: Number(birth), period: Number(period) });
  const tx = api.tx.system.remarkWithEvent(remark);
  await tx.signAsync(pair, { nonce: Number(nonce), era, blockHash, tip: 0 });
  console.log(JSON.stringify({ hex: tx.toHex(), hash: tx.hash.toHex(),
    extensions: api.registry.signedExtensions }));
  await api.disconnect();
  process.exit(0);
} catch (e) {
  console.error(`polkadot.js failed: ${e.stack || e}`);
  process.exit(1);
}
