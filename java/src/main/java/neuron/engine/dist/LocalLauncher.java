package neuron.engine.dist;

import neuron.engine.api.JvmCommand;
import neuron.engine.nativeio.LibTorch;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/neuron miner --nproc N}: torchrun for one host. Serves the group's store on a free port (or
 * {@code --master_port}), starts N ranks of the same command, each a JVM of its own with torchrun's environment,
 * prefixes each line they print with its rank, passes SIGINT/SIGTERM on (the ranks agree on a last step and
 * checkpoint it), and waits for all. A rank that exits with a failure is named in the store at once, for the
 * others, which stop by themselves; one that is still running well past the group's timeout after that is killed.
 */
public final class LocalLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(LocalLauncher.class);
    /** How a JVM that ran its shutdown hooks on SIGINT or SIGTERM exits: a rank's graceful stop. */
    private static final int SIGINT_EXIT = 130;
    private static final int SIGTERM_EXIT = 143;

    private LocalLauncher() {
    }

    /**
     * Runs {@code nproc} ranks of {@code engine}'s {@code <command> <args>} and returns the exit status for the group:
     * 0 if every rank exited 0 or stopped gracefully on a signal, else the status of the first rank to fail (1
     * for a rank killed by a signal).
     */
    public static int run(int nproc, DistArguments flags, JvmCommand engine, String command, List<String> args)
            throws IOException, InterruptedException {
        LibTorch.load();
        int port = flags.launcherPort(System.getenv());
        DistConfig base = flags.toConfig(System.getenv());
        TCPStore store = new TCPStore(base.masterAddr(), new TCPStoreOptions().port((short) port).isServer(true)
                .numWorkers(new SizeTPointer(1).put(nproc)).waitWorkers(false)
                .timeout(new Milliseconds(base.timeout().toMillis())));
        int actualPort = store.getPort() & 0xFFFF;
        DistConfig group = new DistConfig(0, nproc, 0, base.masterAddr(), actualPort, true, base.timeout(),
                base.bucketBytes());
        LOG.info("launching {} ranks; the group's store is at {}:{}", nproc, base.masterAddr(), actualPort);
        List<Process> ranks = new CopyOnWriteArrayList<>();   // read by the shutdown hook too
        List<Thread> outputs = new CopyOnWriteArrayList<>();
        BlockingQueue<Integer> exited = new LinkedBlockingQueue<>();
        // A signal stops the launcher only once every rank has stopped: its store must outlive their last reports.
        Thread passOn = new Thread(() -> {
            ranks.forEach(p -> p.toHandle().destroy());   // SIGTERM; Process.destroy() would also cut their output
            ranks.forEach(p -> p.onExit().join());
            joinAll(outputs);   // their last lines, too
        }, "launcher-stop");
        Runtime.getRuntime().addShutdownHook(passOn);
        try {
            for (int r = 0; r < nproc; r++) {
                ProcessBuilder pb = new ProcessBuilder(engine.line(rankArguments(command, args))).redirectErrorStream(true);
                pb.environment().putAll(group.environment(r, r));
                Process p = pb.start();
                ranks.add(p);
                outputs.add(pump(p, "[rank " + r + "] ", System.out));
                int rank = r;
                p.onExit().thenRun(() -> exited.add(rank));
            }
            int status = await(ranks, exited, base, store);
            joinAll(outputs);
            return status;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(passOn);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it passed the stop on and waits for the ranks
            }
            store.close();
        }
    }

    /** Waits for every rank; once one has failed, kills those still running a timeout and a minute later. */
    private static int await(List<Process> ranks, BlockingQueue<Integer> exited, DistConfig config, TCPStore store)
            throws InterruptedException {
        int status = 0;
        long deadline = Long.MAX_VALUE;
        for (int remaining = ranks.size(); remaining > 0; ) {
            Integer r = deadline == Long.MAX_VALUE ? exited.take()
                    : exited.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (r == null) {
                for (Process p : ranks) {
                    if (p.isAlive()) {
                        LOG.error("rank {} has not stopped after another rank failed; killing it", ranks.indexOf(p));
                        p.destroyForcibly();
                    }
                }
                deadline = Long.MAX_VALUE;
                continue;
            }
            remaining--;
            int exit = ranks.get(r).exitValue();
            if (exit == SIGINT_EXIT || exit == SIGTERM_EXIT) {
                LOG.info("rank {} stopped on a signal, after the group's final checkpoint", r);
            } else if (exit != 0) {
                LOG.error("rank {} exited with status {}{}", r, exit, exit > 128 ? " (signal " + (exit - 128) + ")" : "");
                Heartbeats.rankExited(store, r, ranks.size(), ranks.get(r).pid(), exit);   // what the others will name
                if (status == 0) {
                    status = exit > 128 ? 1 : exit;
                    deadline = System.nanoTime() + config.timeout().toNanos() + TimeUnit.MINUTES.toNanos(1);
                }
            }
        }
        return status;
    }

    private static List<String> rankArguments(String command, List<String> args) {
        List<String> all = new ArrayList<>(List.of(command));
        all.addAll(args);
        return all;
    }

    private static void joinAll(List<Thread> threads) {
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Thread pump(Process p, String prefix, PrintStream out) {
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    out.println(prefix + line);
                }
            } catch (IOException e) {
                LOG.debug("output of {}ended: {}", prefix, e.getMessage());
            }
        }, "launcher-output");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
