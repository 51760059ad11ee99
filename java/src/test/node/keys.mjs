// polkadot.js's keyring and util-crypto as the reference for the engine's hotkeys. Reads one JSON array of requests
// on stdin and prints one JSON array of answers, in order:
//   {op: 'pair', type, uri}                          -> {publicKey, address}
//   {op: 'sign', type, uri, message}                 -> {publicKey, signature}
//   {op: 'verify', type, publicKey, message, signature} -> {valid}
//   {op: 'wallet', type, path, words?}               -> writes a Bittensor hotkey file (mode 0600) from a fresh
//                                                       mnemonic; -> {publicKey, address}
// Hex is 0x-prefixed; messages are hex bytes. Exits 1 on any failure.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex, hexToU8a } from '@polkadot/util';
import {
  cryptoWaitReady, ed25519Verify, mnemonicGenerate, mnemonicToMiniSecret, sr25519Verify,
} from '@polkadot/util-crypto';

const SS58_PREFIX = 42;

function pairOf(type, uri) {
  return new Keyring({ type, ss58Format: SS58_PREFIX }).addFromUri(uri);
}

function answer(request) {
  switch (request.op) {
    case 'pair': {
      const pair = pairOf(request.type, request.uri);
      return { publicKey: u8aToHex(pair.publicKey), address: pair.address };
    }
    case 'sign': {
      const pair = pairOf(request.type, request.uri);
      return { publicKey: u8aToHex(pair.publicKey), signature: u8aToHex(pair.sign(hexToU8a(request.message))) };
    }
    case 'verify': {
      const verify = request.type === 'sr25519' ? sr25519Verify : ed25519Verify;
      let valid;
      try {
        valid = verify(hexToU8a(request.message), hexToU8a(request.signature), hexToU8a(request.publicKey));
      } catch (e) {
        valid = false; // a malformed signature or key is a refusal, as the engine's verify answers false
      }
      return { valid };
    }
    case 'wallet': {
      const phrase = mnemonicGenerate(request.words ?? 12);
      const pair = pairOf(request.type, phrase);
      // the layout Bittensor's wallets write for a hotkey
      const file = {
        accountId: u8aToHex(pair.publicKey),
        publicKey: u8aToHex(pair.publicKey),
        privateKey: u8aToHex(pair.encodePkcs8().subarray(16, 80)),
        secretPhrase: phrase,
        secretSeed: u8aToHex(mnemonicToMiniSecret(phrase)),
        ss58Address: pair.address,
      };
      mkdirSync(dirname(request.path), { recursive: true, mode: 0o700 });
      writeFileSync(request.path, JSON.stringify(file), { mode: 0o600 });
      return { publicKey: file.publicKey, address: file.ss58Address };
    }
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

try {
  await cryptoWaitReady();
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  const requests = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  console.log(JSON.stringify(requests.map(answer)));
  process.exit(0);
} catch (e) {
  console.error(`polkadot.js keys failed: ${e.stack || e}`);
  process.exit(1);
}
