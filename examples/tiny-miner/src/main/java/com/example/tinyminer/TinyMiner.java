package com.example.tinyminer;

import neuron.engine.api.NeuronCheckpoints;
import neuron.engine.checkpoint.StateSource;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.torch.TensorTreeSource;
import neuron.engine.torch.TensorTrees;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.bytedeco.pytorch.global.torch.set_num_threads;

/**
 * A miner with its own model and loop that embeds the neuron engine for its checkpoints:
 * {@code java -jar tiny-miner.jar CHECKPOINT MAX_STEPS [INTERVAL [STAGING_DIR]]}. It resumes from the newest
 * valid checkpoint by itself, checkpoints every INTERVAL steps while it trains, and on SIGTERM or at MAX_STEPS
 * stops with a final checkpoint on disk.
 */
public final class TinyMiner {
    private TinyMiner() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 4) {
            System.err.println("usage: tiny-miner CHECKPOINT MAX_STEPS [INTERVAL [STAGING_DIR]]");
            System.exit(2);
        }
        LibTorch.load();        // the LibTorch bundled with the presets, before any tensor exists
        set_num_threads(1);     // bit-exact resumes need the same thread count every time
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.set(true);     // SIGTERM: the loop finishes its step and takes the final checkpoint
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        try {
            train(Path.of(args[0]), Long.parseLong(args[1]), args.length > 2 ? Long.parseLong(args[2]) : 100,
                    args.length > 3 ? Path.of(args[3]) : null, stop);
        } finally {
            stopped.countDown();
        }
    }

    static void train(Path checkpoint, long maxSteps, long interval, Path staging, AtomicBoolean stop)
            throws Exception {
        NeuronCheckpoints.Builder options = NeuronCheckpoints.forMiner(checkpoint).interval(interval)
                .expectedStateBytes(Trainer.STATE_BYTES);
        if (staging != null) {
            options.stagingDirectory(staging);
        }
        long last;
        try (NeuronCheckpoints checkpoints = options.open()) {
            Trainer trainer = checkpoints.restore(stored -> Trainer.restore(TensorTrees.stored(stored)))
                    .map(restored -> {
                        System.out.println("resumed at step " + restored.progress() + " from " + restored.file());
                        return restored.state();
                    })
                    .orElseGet(Trainer::fresh);
            StateSource state = TensorTreeSource.of(trainer::state);
            while (trainer.step() < maxSteps && !stop.get()) {
                float loss = trainer.forwardBackward();      // reads the state, writes only gradients
                checkpoints.awaitStaging();                   // a snapshot's copy is done: the state may change
                trainer.update();
                checkpoints.afterStep(trainer.step(), state); // a snapshot every `interval` steps
                System.out.println("step " + trainer.step() + " loss " + Integer.toHexString(Float.floatToRawIntBits(loss)));
            }
            last = trainer.step();
        }                                                     // close(): the final checkpoint, on disk
        System.out.println("stopped at step " + last + "; " + checkpoint + " is on disk");
    }
}
