package neuron.engine.demo;

import neuron.engine.chain.Follow;
import neuron.engine.chain.WsChainClient;
import neuron.engine.network.ChainUnavailableException;
import neuron.engine.network.ChainWeights;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How the network ended: the validator's final weights (and those it set on the chain, read back from the chain),
 * and the network's loss on the held-out rows, first and last. Says it in plain words and lists what is not as
 * the demo expects: the honest miner holds most of the weight, the lazy and the noisy one about none, the loss fell.
 */
final class Network {
    private static final Duration CHAIN_PATIENCE = Duration.ofSeconds(10);
    private static final double MOST = 0.5;
    private static final double ABOUT_NONE = 0.05;

    private final CheckpointPeek last;
    private final Series heldOut;
    private final List<String> problems;

    private Network(CheckpointPeek last, Series heldOut, List<String> problems) {
        this.last = last;
        this.heldOut = heldOut;
        this.problems = problems;
    }

    static Network of(Roles roles, String chainUri, Child validator, Narrator narrator)
            throws IOException, InterruptedException {
        List<String> problems = new ArrayList<>();
        CheckpointPeek last = CheckpointPeek.read(roles.checkpoint(validator.name()), Roles.VALIDATOR_PROGRESS);
        narrator.say("the validator's final weights: " + CheckpointPeek.listed(last.weights()));
        float honest = last.weights().getOrDefault(Roles.HONEST, 0f);
        if (honest < MOST) {
            problems.add("the honest miner holds " + honest + " of the weight, not most of it");
        }
        for (int uid : Roles.MINERS) {
            if (uid != Roles.HONEST && last.weights().getOrDefault(uid, 0f) > ABOUT_NONE) {
                problems.add(Roles.minerName(uid) + " holds " + last.weights().get(uid) + " of the weight");
            }
        }
        Optional<ChainWeights> onChain = weightsOnChain(chainUri);
        narrator.say(onChain.map(w -> "the chain holds the weights validator " + w.validatorUid() + " set at block "
                + w.block() + " (u16, summing to " + ChainWeights.TOTAL + "): " + w.values())
                .orElse("the chain holds no weights of the validator"));
        if (onChain.isEmpty()) {
            problems.add("no weights on the chain");
        }
        Series loss = Series.read(roles.metrics(validator.name()), 0, 4, -1, "held-out loss").stream()
                .findFirst().orElse(null);
        if (loss == null) {
            problems.add("the validator wrote no held-out loss");
        } else {
            double first = loss.first()[1];
            double end = loss.last()[1];
            narrator.say(String.format(Locale.ROOT, "the network's loss on the held-out rows went from %.4f to %.4f: "
                    + "%s", first, end, end < first ? "the network learned" : "NO PROGRESS"));
            if (!(end < first)) {
                problems.add("the network's held-out loss did not fall");
            }
        }
        return new Network(last, loss, problems);
    }

    private static Optional<ChainWeights> weightsOnChain(String uri) throws InterruptedException {
        WsChainClient client = WsChainClient.open(URI.create(uri), Follow.BEST);
        try {
            client.awaitHead(0, CHAIN_PATIENCE);
            return client.weights(Roles.VALIDATOR_UID);
        } catch (ChainUnavailableException e) {
            return Optional.empty();
        } finally {
            client.close();
        }
    }

    List<String> problems() {
        return problems;
    }

    Map<Integer, Float> finalWeights() {
        return last.weights();
    }

    Series heldOutLoss() {
        return heldOut;
    }
}
