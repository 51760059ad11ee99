// polkadot.js against a chain endpoint: connects with ApiPromise.create (which fetches runtime version, chain,
// properties, methods and metadata), follows new and finalized heads, checks each header's hash (computed here, by
// polkadot.js, from the header it decoded) against chain_getBlockHash, reads storage decoded through the metadata
// and decodes a block's extrinsics; with a uid and a validator uid, reads that neuron's Commitments.CommitmentOf and
// that validator's SubtensorModule.Weights on subnet 1. Prints one JSON object; exits 1 on any failure.
import { ApiPromise, WsProvider } from '@polkadot/api';

const [url, wanted = '5', committer, validator] = process.argv.slice(2);
const NETUID = 1;
const count = Number(wanted);

async function follow(api, method) {
  const heads = [];
  await new Promise((resolve, reject) => {
    const unsub = api.rpc.chain[method]((header) => {
      heads.push(header);
      if (heads.length === count) {
        unsub.then((u) => u()).then(resolve, reject);
      }
    });
  });
  const checked = [];
  for (const header of heads) {
    const number = header.number.toNumber();
    const hash = header.hash.toHex();
    const served = (await api.rpc.chain.getBlockHash(number)).toHex();
    checked.push({ number, hash, served, parent: header.parentHash.toHex() });
  }
  return checked;
}

const provider = new WsProvider(url, 1000, {}, 30000);
try {
  const api = await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
  const version = api.runtimeVersion;
  const newHeads = await follow(api, 'subscribeNewHeads');
  const finalizedHeads = await follow(api, 'subscribeFinalizedHeads');
  const at = finalizedHeads[finalizedHeads.length - 1];
  const apiAt = await api.at(at.hash);
  const now = await apiAt.query.timestamp.now();
  const number = await apiAt.query.system.number();
  const latest = await api.query.timestamp.now();
  const block = await api.rpc.chain.getBlock(at.hash);
  const calls = block.block.extrinsics.map((x) => `${x.method.section}.${x.method.method}`);
  const setArgument = block.block.extrinsics[0].method.args[0].toString();
  let window = null;
  if (committer !== undefined) {
    const registration = (await apiAt.query.commitments.commitmentOf(NETUID, Number(committer))).unwrap();
    const weights = await apiAt.query.subtensorModule.weights(NETUID, Number(validator));
    window = {
      commitment: { block: registration.block.toNumber(), deposit: registration.deposit.toString(),
        fields: registration.info.fields.map((f) => ({ type: f.type, hex: f.value.toHex() })) },
      weights: weights.map(([uid, weight]) => [uid.toNumber(), weight.toNumber()]),
      absent: (await apiAt.query.commitments.commitmentOf(NETUID, 65535)).isNone,
    };
  }
  const health = await api.rpc.system.health();
  const finalizedHead = (await api.rpc.chain.getFinalizedHead()).toHex();
  console.log(JSON.stringify({
    chain: (await api.rpc.system.chain()).toString(),
    specName: version.specName.toString(),
    specVersion: version.specVersion.toNumber(),
    genesisHash: api.genesisHash.toHex(),
    metadataVersion: api.runtimeMetadata.version,
    pallets: api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString()),
    newHeads,
    finalizedHeads,
    storage: { block: at.number, hash: at.hash, timestampNow: now.toString(), systemNumber: number.toNumber(),
      latestTimestamp: latest.toString() },
    calls,
    setArgument,
    peers: health.peers.toNumber(),
    finalizedHead,
    window,
  }));
  await api.disconnect();
  process.exit(0);
} catch (e) {
  console.error(`polkadot.js failed: ${e.stack || e}`);
  process.exit(1);
}
