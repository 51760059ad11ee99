package neuron.engine.extrinsic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import neuron.engine.chain.Header;
import neuron.engine.keys.Ed25519KeyPair;
import neuron.engine.testing.NodeScripts;
import neuron.engine.testing.Slow;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Offline, against polkadot.js: real runtimes' metadata V15 (as {@code @polkadot/types-support} ships it: Kusama
 * Asset Hub, with ChargeAssetTxPayment and CheckMetadataHash, and the Polkadot relay chain, with
 * ChargeTransactionPayment) decodes to the same pallets, call index and transaction extensions, and the engine's
 * signed extrinsic for a fixed ed25519 key, nonce, era and hashes is polkadot.js's, byte for byte (ed25519
 * signatures are deterministic), as is a call with an enum and a compact argument.
 */
@Slow
class PolkadotJsSigningTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();

    @ParameterizedTest
    @ValueSource(strings = {"asset-hub-kusama", "polkadot"})
    void theEngineSignsWhatPolkadotJsSigns(String runtime) throws Exception {
        NodeScripts.assumeInstalled();
        byte[] seed = filled(0x07);
        byte[] birthHash = filled(0xaa);
        byte[] genesisHash = filled(0xbb);
        byte[] remark = "the same bytes".getBytes(StandardCharsets.UTF_8);
        long nonce = 3;
        long current = 1000;
        JsonNode polkadot = JSON.readTree(NodeScripts.run(Duration.ofSeconds(120), "", "sign-offline.mjs", runtime,
                hex(seed), Long.toString(nonce), "64", Long.toString(current), hex(birthHash), hex(genesisHash), "1", "2",
                hex(remark)));

        RuntimeMetadata metadata = RuntimeMetadata.decode(Header.hexBytes(polkadot.get("metadata")));
        assertEquals(15, metadata.version());
        List<List<Object>> pallets = new ArrayList<>();
        metadata.palletNames().forEach(name -> pallets.add(List.of(name, metadata.pallet(name).index())));
        assertEquals(polkadot.get("pallets").toString(), JSON.writeValueAsString(pallets));
        assertEquals(polkadot.get("extensions").toString(), JSON.writeValueAsString(metadata.extensions().stream()
                .map(RuntimeMetadata.TransactionExtension::identifier).toList()));

        ExtrinsicSigner signer = new ExtrinsicSigner(metadata);
        byte[] call = signer.call("System", "remark_with_event", remark);
        assertEquals(polkadot.get("remarkWithEvent").asText(), hex(new byte[] {call[0], call[1]}));
        Era era = Era.mortal(64, current);
        SigningContext context = new SigningContext(1, 2, genesisHash, era, era.birth(current), birthHash, nonce,
                BigInteger.ZERO);
        SignedExtrinsic signed = signer.sign(Ed25519KeyPair.fromSeed(seed), "System.remark_with_event", call, context);
        assertEquals(polkadot.get("hex").asText(), signed.hex());

        // an enum argument (MultiAddress::Id of an AccountId32) and the largest Compact<u128>
        byte[] transfer = signer.call("Balances", "transfer_keep_alive",
                new EnumValue("Id", Ed25519KeyPair.fromSeed(seed).publicKey()),
                BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE));
        assertEquals(polkadot.get("transfer").asText(), hex(transfer));
    }

    private static byte[] filled(int value) {
        byte[] bytes = new byte[32];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    private static String hex(byte[] bytes) {
        return "0x" + HEX.formatHex(bytes);
    }
}
