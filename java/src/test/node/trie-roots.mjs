// Reads [{"version": 0|1, "entries": [["0xkey", "0xvalue"], ...]}, ...] on stdin and prints, one per line, the
// trie root that chopsticks' executor (sp-trie compiled to wasm) computes for each.
import * as executor from '@acala-network/chopsticks-executor';

let input = '';
for await (const chunk of process.stdin) input += chunk;
for (const { version, entries } of JSON.parse(input)) {
  console.log(await executor.calculate_state_root(entries, version));
}
