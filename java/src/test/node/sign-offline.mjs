// polkadot.js, offline and independently of the engine: decodes a runtime's metadata V15 as served by
// Metadata_metadata_at_version (one of the metadata files @polkadot/types-support ships, named by the first argument,
// e.g. asset-hub-kusama), and signs System.remark_with_event with an ed25519 key from a 32-byte hex seed, a nonce, a
// mortal era (period, current block), the birth block's and genesis hashes and the runtime's versions, tip 0.
// Prints the metadata bytes, what polkadot.js reads from them, the signed extrinsic and a Balances.transfer_keep_alive
// call to the key's account of u128::MAX as JSON; exits 1 on failure.
import { Metadata, TypeRegistry } from '@polkadot/types';
import { expandMetadata } from '@polkadot/types/metadata';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { hexToU8a, u8aToHex, compactStripLength } from '@polkadot/util';

const [name, seed, nonce, period, current, birthHash, genesisHash, specVersion, txVersion, remark] = process.argv.slice(2);
try {
  await cryptoWaitReady();
  const served = (await import(`@polkadot/types-support/metadata/v15/${name}-hex`)).default;
  const opaque = hexToU8a(served);
  if (opaque[0] !== 1) throw new Error('not Some(metadata)');
  const [, bytes] = compactStripLength(opaque.subarray(1));
  const registry = new TypeRegistry();
  const metadata = new Metadata(registry, bytes);
  registry.setMetadata(metadata);
  const v15 = metadata.asV15;
  const { tx } = expandMetadata(registry, metadata);
  const call = tx.system.remarkWithEvent(remark);
  const pair = new Keyring({ type: 'ed25519' }).addFromSeed(hexToU8a(seed));
  const era = registry.createType('ExtrinsicEra', { current: Number(current), period: Number(period) });
  const extrinsic = registry.createType('Extrinsic', call, { version: 4 });
  extrinsic.sign(pair, { blockHash: birthHash, era, genesisHash, nonce: Number(nonce),
    runtimeVersion: { specVersion: Number(specVersion), transactionVersion: Number(txVersion) },
    signedExtensions: registry.signedExtensions, tip: 0 });
  const out = JSON.stringify({
    metadata: u8aToHex(bytes),
    version: metadata.version,
    pallets: v15.pallets.map((p) => [p.name.toString(), p.index.toNumber()]),
    extensions: v15.extrinsic.signedExtensions.map((e) => e.identifier.toString()),
    remarkWithEvent: u8aToHex(call.callIndex),
    hex: extrinsic.toHex(),
    // an enum argument (MultiAddress::Id of an AccountId32) and a Compact<u128>
    transfer: tx.balances.transferKeepAlive({ Id: pair.publicKey }, '340282366920938463463374607431768211455').toHex(),
  });
  process.stdout.write(`${out}\n`, () => process.exit(0)); // a pipe takes the large output asynchronously
} catch (e) {
  console.error(`polkadot.js failed: ${e.stack || e}`);
  process.exit(1);
}
