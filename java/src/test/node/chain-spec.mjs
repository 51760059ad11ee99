// Writes the raw chain spec of Rococo Asset Hub (its genesis state, runtime :code included) to the file named by
// the first argument: what chopsticks runs offline.
import { writeFileSync } from 'node:fs';
import { chainSpec } from '@substrate/connect-known-chains/rococo_v2_2_asset_hub';

writeFileSync(process.argv[2], chainSpec);
