package neuron.engine.extrinsic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import neuron.engine.network.ChainUnavailableException;
import neuron.engine.chain.Header;
import neuron.engine.chain.WsChainClient;
import neuron.engine.chain.scale.Hashing;
import neuron.engine.chain.scale.ScaleFormatException;
import neuron.engine.chain.scale.ScaleReader;
import neuron.engine.keys.KeyPair;
import neuron.engine.keys.Ss58;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs and submits extrinsics to a Substrate node: reads its metadata (V15 where the runtime offers it, else V14),
 * runtime version and genesis hash once; signs with the sender's next nonce ({@code system_accountNextIndex}) and a
 * mortal era born at the best block; submits with {@code author_submitAndWatchExtrinsic} and follows the extrinsic
 * to inclusion and finality, reading its events from the including block. Every end, refusals included, is a
 * {@link Submission} and one log line.
 */
public final class ExtrinsicClient {
    private static final Logger log = LoggerFactory.getLogger(ExtrinsicClient.class);
    private static final String METADATA_V15 = "0x0f000000"; // u32 15, the argument of Metadata_metadata_at_version
    private static final JsonNode CONNECTION_LOST = MissingNode.getInstance();

    private final WsChainClient chain;
    private final String endpoint;
    private final Duration timeout;
    private final ExtrinsicSigner signer;
    private final long specVersion;
    private final long transactionVersion;
    private final byte[] genesisHash;
    private final int ss58Prefix;

    private ExtrinsicClient(WsChainClient chain, String endpoint, Duration timeout, ExtrinsicSigner signer,
                            long specVersion, long transactionVersion, byte[] genesisHash, int ss58Prefix) {
        this.chain = chain;
        this.endpoint = endpoint;
        this.timeout = timeout;
        this.signer = signer;
        this.specVersion = specVersion;
        this.transactionVersion = transactionVersion;
        this.genesisHash = genesisHash;
        this.ss58Prefix = ss58Prefix;
    }

    /**
     * Reads what signing needs from the node behind {@code chain}; {@code timeout} bounds each request. A runtime
     * with a transaction extension that cannot be signed for is refused here (IllegalArgumentException).
     */
    public static ExtrinsicClient connect(WsChainClient chain, String endpoint, Duration timeout)
            throws ChainUnavailableException, InterruptedException {
        RuntimeMetadata metadata = RuntimeMetadata.decode(metadataBytes(chain, timeout));
        JsonNode version = result(chain, "state_getRuntimeVersion", timeout);
        byte[] genesis = Header.hexBytes(result(chain, "chain_getBlockHash", timeout, 0));
        JsonNode prefix = result(chain, "system_properties", timeout).path("ss58Format");
        return new ExtrinsicClient(chain, endpoint, timeout, new ExtrinsicSigner(metadata),
                version.path("specVersion").asLong(), version.path("transactionVersion").asLong(), genesis,
                prefix.isInt() ? prefix.asInt() : Ss58.SUBSTRATE_PREFIX);
    }

    public ExtrinsicSigner signer() {
        return signer;
    }

    public RuntimeMetadata metadata() {
        return signer.metadata();
    }

    /** The context to sign with now: the key's next nonce, a mortal era of {@code period} blocks from the best block. */
    public SigningContext context(KeyPair key, long period) throws ChainUnavailableException, InterruptedException {
        long nonce = result(chain, "system_accountNextIndex", timeout, Ss58.encode(key.publicKey(), ss58Prefix)).asLong();
        long best = bestNumber();
        Era era = Era.mortal(period, best);
        long birth = era.birth(best);
        return new SigningContext(specVersion, transactionVersion, genesisHash, era, birth, blockHash(birth), nonce,
                BigInteger.ZERO);
    }

    /** Encodes and signs {@code pallet.call(arguments…)} for submission now, valid for about {@code period} blocks. */
    public SignedExtrinsic sign(KeyPair key, long period, String pallet, String call, Object... arguments)
            throws ChainUnavailableException, InterruptedException {
        return signer.sign(key, pallet + "." + call, signer.call(pallet, call, arguments), context(key, period));
    }

    public long bestNumber() throws ChainUnavailableException, InterruptedException {
        return number(result(chain, "chain_getHeader", timeout).path("number"));
    }

    public byte[] blockHash(long number) throws ChainUnavailableException, InterruptedException {
        JsonNode hash = result(chain, "chain_getBlockHash", timeout, number);
        if (hash.isNull()) {
            throw new ChainUnavailableException(endpoint + " has no block " + number);
        }
        return Header.hexBytes(hash);
    }

    /**
     * Submits and follows the extrinsic until it is in a block ({@code untilFinalized} false) or finalized, or
     * {@code deadline} passes. Never throws for what the node or the runtime decides; logs one line for the end.
     */
    public Submission submit(SignedExtrinsic extrinsic, boolean untilFinalized, Duration deadline)
            throws InterruptedException {
        Submission submission = follow(extrinsic, untilFinalized, deadline);
        if (submission.included()) {
            Submission.Inclusion at = submission.inclusion();
            log.info("extrinsic {} {} block {} ({}) as #{}: {}", extrinsic.describe(),
                    submission.status() == Submission.Status.FINALIZED ? "finalized in" : "included in",
                    at.blockNumber(), at.blockHashHex(), at.index(), at.succeeded() ? "succeeded" : "failed " + at.events());
        } else if (submission.status() == Submission.Status.REFUSED) {
            log.warn("extrinsic {} refused by {}: {} ({})", extrinsic.describe(), endpoint,
                    submission.refusal().meaning(), submission.detail());
        } else {
            log.warn("extrinsic {} not included: {} ({})", extrinsic.describe(),
                    submission.status().name().toLowerCase(Locale.ROOT).replace('_', ' '), submission.detail());
        }
        return submission;
    }

    private Submission follow(SignedExtrinsic extrinsic, boolean untilFinalized, Duration deadline)
            throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        BlockingQueue<JsonNode> updates = new LinkedBlockingQueue<>();
        JsonNode answer;
        try {
            answer = chain.subscribe("author_submitAndWatchExtrinsic", timeout,
                    update -> updates.add(update == null ? CONNECTION_LOST : update), extrinsic.hex());
        } catch (ChainUnavailableException e) {
            return Submission.ended(Submission.Status.UNAVAILABLE, e.getMessage());
        }
        if (answer.has("error")) {
            JsonNode error = answer.get("error");
            return new Submission(Submission.Status.REFUSED, refusal(Refusal.of(error), extrinsic),
                    describeError(error, extrinsic), null);
        }
        JsonNode subscription = answer.path("result");
        Submission.Inclusion inBlock = null;
        try {
            while (true) {
                JsonNode update = updates.poll(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (update == null) {
                    return new Submission(inBlock == null ? Submission.Status.TIMED_OUT : Submission.Status.IN_BLOCK,
                            null, "no " + (untilFinalized ? "finality" : "inclusion") + " within " + deadline, inBlock);
                }
                if (update == CONNECTION_LOST) {
                    return new Submission(Submission.Status.UNAVAILABLE, null, "connection to " + endpoint
                            + " lost while watching", inBlock);
                }
                String status = update.isTextual() ? update.asText() : update.fieldNames().hasNext()
                        ? update.fieldNames().next() : "";
                switch (status) {
                    case "future", "ready", "broadcast" -> {
                        // still in the pool
                    }
                    case "retracted" -> inBlock = null;
                    case "inBlock", "finalized" -> {
                        inBlock = locate(extrinsic, Header.hexBytes(update.get(status)));
                        if (status.equals("finalized") || !untilFinalized) {
                            return new Submission(status.equals("finalized") ? Submission.Status.FINALIZED
                                    : Submission.Status.IN_BLOCK, null, status, inBlock);
                        }
                    }
                    case "finalityTimeout" -> {
                        return new Submission(Submission.Status.FINALITY_TIMEOUT, null, update.toString(), inBlock);
                    }
                    case "usurped" -> {
                        return Submission.ended(Submission.Status.USURPED, "usurped by " + update.get(status).asText());
                    }
                    case "dropped" -> {
                        return Submission.ended(Submission.Status.DROPPED, "dropped from the pool");
                    }
                    default -> { // "invalid", or chopsticks' report of a failure to apply it: {"invalid": {…}}
                        return Submission.ended(Submission.Status.INVALID, update.toString());
                    }
                }
            }
        } catch (ChainUnavailableException e) {
            return new Submission(Submission.Status.UNAVAILABLE, null, e.getMessage(), inBlock);
        } finally {
            chain.unsubscribe("author_unwatchExtrinsic", subscription);
        }
    }

    /** Finds the extrinsic in the block's body and reads its events from the block's System.Events. */
    private Submission.Inclusion locate(SignedExtrinsic extrinsic, byte[] blockHash)
            throws ChainUnavailableException, InterruptedException {
        String hash = hex(blockHash);
        JsonNode block = result(chain, "chain_getBlock", timeout, hash).path("block");
        long number = number(block.path("header").path("number"));
        int index = -1;
        JsonNode body = block.path("extrinsics");
        for (int i = 0; i < body.size(); i++) {
            if (body.get(i).asText().equalsIgnoreCase(extrinsic.hex())) {
                index = i;
            }
        }
        if (index < 0) {
            throw new ChainUnavailableException("block " + hash + " was reported to include extrinsic "
                    + extrinsic.hashHex() + " but its body does not");
        }
        return new Submission.Inclusion(blockHash, number, index, events(hash, index));
    }

    private List<ChainEvent> events(String blockHash, int index) throws ChainUnavailableException, InterruptedException {
        RuntimeMetadata metadata = metadata();
        RuntimeMetadata.StorageItem item = metadata.storage("System", "Events");
        JsonNode value = result(chain, "state_getStorage", timeout, hex(Hashing.storagePrefix("System", "Events")),
                blockHash);
        List<ChainEvent> events = new ArrayList<>();
        if (value.isNull()) {
            return events;
        }
        try {
            ScaleReader in = new ScaleReader(Header.hexBytes(value));
            List<?> records = (List<?>) new ScaleCodec(metadata.types()).decode(item.value(), in);
            in.expectEnd();
            for (Object record : records) {
                Map<?, ?> fields = (Map<?, ?>) record;
                EnumValue phase = (EnumValue) fields.get("phase");
                EnumValue event = (EnumValue) fields.get("event");
                if (phase.name().equals("ApplyExtrinsic") && ((BigInteger) phase.value()).intValue() == index) {
                    EnumValue inner = (EnumValue) event.value();
                    events.add(new ChainEvent(event.name(), inner.name(), inner.value()));
                }
            }
        } catch (ScaleFormatException | ClassCastException e) {
            log.warn("could not read the events of block {} from {}: {}", blockHash, endpoint, e.getMessage());
        }
        return List.copyOf(events);
    }

    /** {@link Refusal#ERA_EXPIRED} for a proof refused when the extrinsic's era had ended by the best block. */
    private Refusal refusal(Refusal said, SignedExtrinsic extrinsic) throws InterruptedException {
        if ((said != Refusal.BAD_PROOF && said != Refusal.ANCIENT_BIRTH_BLOCK) || extrinsic.era().immortal()) {
            return said;
        }
        try {
            // the extrinsic would go into the block after the best one
            return bestNumber() + 1 >= extrinsic.birthBlock() + extrinsic.era().period() ? Refusal.ERA_EXPIRED : said;
        } catch (ChainUnavailableException e) {
            return said;
        }
    }

    private static String describeError(JsonNode error, SignedExtrinsic extrinsic) {
        String data = error.has("data") ? ": " + error.get("data") : "";
        String era = extrinsic.era().immortal() ? "" : "; signed with an era from block " + extrinsic.birthBlock()
                + " to " + (extrinsic.birthBlock() + extrinsic.era().period());
        return error.path("code").asInt() + " " + error.path("message").asText() + data + era;
    }

    /** The node's metadata: V15 through the runtime API where it has it, else state_getMetadata's (V14). */
    private static byte[] metadataBytes(WsChainClient chain, Duration timeout)
            throws ChainUnavailableException, InterruptedException {
        JsonNode v15 = chain.request("state_call", timeout, "Metadata_metadata_at_version", METADATA_V15);
        if (v15.path("result").isTextual()) {
            ScaleReader in = new ScaleReader(Header.hexBytes(v15.get("result"))); // Option<OpaqueMetadata>
            if (in.bool()) {
                byte[] metadata = in.bytes();
                in.expectEnd();
                return metadata;
            }
        }
        return Header.hexBytes(result(chain, "state_getMetadata", timeout));
    }

    private static JsonNode result(WsChainClient chain, String method, Duration timeout, Object... params)
            throws ChainUnavailableException, InterruptedException {
        JsonNode answer = chain.request(method, timeout, params);
        if (!answer.has("result")) {
            throw new ChainUnavailableException(method + " failed: " + answer.path("error"));
        }
        return answer.get("result");
    }

    private static long number(JsonNode node) {
        String text = node.asText("");
        if (node.isIntegralNumber()) {
            return node.asLong();
        }
        if (!text.startsWith("0x")) {
            throw new ScaleFormatException("not a block number: " + node);
        }
        return Long.parseLong(text.substring(2), 16);
    }

    private static String hex(byte[] bytes) {
        return "0x" + HexFormat.of().formatHex(bytes);
    }
}
