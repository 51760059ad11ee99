package neuron.bench;

import neuron.engine.api.JvmCommand;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.dist.DataParallelReplica;
import neuron.engine.dist.DistConfig;
import neuron.engine.dist.Group;
import neuron.engine.miner.MinerArguments;
import neuron.engine.miner.MinerLoop;
import neuron.engine.miner.MinerOptions;
import neuron.engine.miner.Replica;
import neuron.engine.nativeio.LibTorch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A miner step and the checkpoint pause of one rank, for a group of 1 and 2 ranks on this host (Gloo over
 * loopback, gradients all-reduced in DDP's buckets, ZeRO-1). The global batch is the same for both, so with 2
 * ranks each computes half of it and pauses to copy half of the optimizer state (and its half of the
 * parameters). The benchmark's JVM is rank 0; rank 1 is a JVM it starts ({@link Peer}), which steps in
 * lockstep through the collectives until rank 0 asks the group to stop.
 */
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
public class DataParallelBench {
    private static final Duration TIMEOUT = Duration.ofMinutes(10);

    @State(Scope.Benchmark)
    public static class Rank {
        @Param({"1", "2"})
        public int ranks;

        @Param({"tiny", "small"})
        public String model;

        Group group;
        Process peer;
        MinerLoop loop;
        Replica replica = Replica.ALONE;
        final AtomicBoolean stop = new AtomicBoolean();

        @Setup(Level.Trial)
        public void join() throws IOException {
            LibTorch.load();
            MinerOptions options = MinerArguments.parse("--model", model);
            if (ranks > 1) {
                int port = freePort();
                peer = startPeer(port, model);
                group = Group.join(config(0, port), false);
                replica = new DataParallelReplica(group, options.model(), stop::get);
            }
            loop = MinerLoop.create(options, replica);
        }

        @TearDown(Level.Trial)
        public void leave() throws InterruptedException {
            if (group != null) {
                stop.set(true);
                loop.step();   // carries the stop to the peer, which then ends after this same step
                peer.waitFor(5, TimeUnit.MINUTES);
                group.close();
            }
            loop.close();
        }
    }

    @State(Scope.Benchmark)
    public static class RankPipeline extends PipelineState {
        @Setup(Level.Trial)
        public void open(Rank rank, ScratchDir scratch) throws IOException {
            pipeline = Pipeline.open(scratch.file("rank-0-of-" + rank.ranks + ".pth"),
                    MinerLoop.checkpointBytes(rank.loop.options().model(), rank.replica), true,
                    CheckpointListener.NONE);
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @Warmup(iterations = 2, time = 3)
    @Measurement(iterations = 3, time = 3)
    public float step(Rank rank) {
        return rank.loop.step();
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 3)
    @Measurement(iterations = 10)
    public void checkpointPause(Rank rank, RankPipeline pipeline) {
        pipeline.pipeline.snapshot(rank.loop.state());
    }

    /** Rank 1 of 2: steps until the group agrees to stop. */
    public static final class Peer {
        public static void main(String[] args) {
            LibTorch.load();
            try (Group group = Group.join(config(1, Integer.parseInt(args[0])), false)) {
                MinerOptions options = MinerArguments.parse("--model", args[1]);
                DataParallelReplica replica = new DataParallelReplica(group, options.model(), () -> false);
                try (MinerLoop loop = MinerLoop.create(options, replica)) {
                    while (!replica.stopAgreed()) {
                        loop.step();
                    }
                }
            }
        }
    }

    private static DistConfig config(int rank, int port) {
        return new DistConfig(rank, 2, rank, "127.0.0.1", port, false, TIMEOUT, 25L << 20);
    }

    private static Process startPeer(int port, String model) throws IOException {
        List<String> cmd = JvmCommand.of(Peer.class).line(List.of(Integer.toString(port), model));
        return new ProcessBuilder(cmd).inheritIO().start();
    }

    /** A port free right now, for rank 0's store (the peer must know it before rank 0 serves it). */
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
