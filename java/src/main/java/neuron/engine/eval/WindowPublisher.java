package neuron.engine.eval;

import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.BlockFeed;
import neuron.engine.train.MinerLoop;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The miner's side of the network: follows the chain on a thread of its own and, once the chain enters a new
 * window, publishes the change of the miner's parameters over the window just ended (made at the last block it
 * saw in that window) to the submission store. Called between steps on the loop's thread.
 */
public final class WindowPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WindowPublisher.class);

    private final BlockFeed feed;
    private final SubmissionStore store;
    private final int uid;
    private final int blocksPerWindow;
    private final Thread follower;
    private volatile long latestBlock = -1;
    private volatile boolean closed;
    private Map<String, Tensor> windowStart;   // parameters when the current window began (CPU copies)
    private long window = -1;
    private long lastBlockInWindow = -1;

    public WindowPublisher(BlockFeed feed, SubmissionStore store, int uid, int blocksPerWindow) {
        this.feed = feed;
        this.store = store;
        this.uid = uid;
        this.blocksPerWindow = blocksPerWindow;
        this.follower = new Thread(this::follow, "chain-follower");
        this.follower.setDaemon(true);
        this.follower.start();
    }

    private void follow() {
        try {
            while (!closed) {
                BlockEvent event = feed.next(Duration.ofMillis(200));
                if (event != null) {
                    latestBlock = event.number();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("miner: stopped following the chain: {}", e.getMessage());
        }
    }

    /** Publishes the previous window's update if the chain has moved into a new window. */
    public void afterStep(MinerLoop loop) {
        long block = latestBlock;
        if (block < 0) {
            return;
        }
        long current = block / blocksPerWindow;
        if (window < 0) {
            window = current;
            lastBlockInWindow = block;
            windowStart = copyOf(loop);
            return;
        }
        if (current == window) {
            lastBlockInWindow = block;
            return;
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Map<String, Tensor> delta = new LinkedHashMap<>();
            loop.model().stateDict().forEach((name, p) -> delta.put(name, p.cpu().sub(windowStart.get(name))));
            long madeAt = Math.max(lastBlockInWindow, window * blocksPerWindow);
            store.publish(uid, window, Math.min(madeAt, (window + 1) * blocksPerWindow - 1), delta);
            LOG.info("miner {}: published its update for window {} at global_step {}", uid, window, loop.globalStep());
        } catch (IOException e) {
            LOG.error("miner {}: could not publish window {}: {}", uid, window, e.getMessage());
        }
        closeStart();
        window = current;
        lastBlockInWindow = block;
        windowStart = copyOf(loop);
    }

    private static Map<String, Tensor> copyOf(MinerLoop loop) {
        Map<String, Tensor> copy = new LinkedHashMap<>();
        try (NoGradGuard noGrad = new NoGradGuard()) {
            loop.model().stateDict().forEach((name, p) -> copy.put(name, p.cpu().clone()));
        }
        return copy;
    }

    private void closeStart() {
        if (windowStart != null) {
            windowStart.values().forEach(Tensor::close);
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        follower.join(5_000);
        feed.close();
        closeStart();
    }
}
