package neuron.engine.dist;

import neuron.engine.nativeio.NativeFile;
import neuron.engine.pth.FileChannelSink;
import neuron.engine.pth.PthReader;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.PthWriter;
import neuron.engine.pth.StorageData;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code bin/neuron merge}: the one-file checkpoint of a complete sharded step, exactly as one process writes
 * it, so any tool that reads a miner's checkpoint reads it (and a miner on its own resumes from it). The
 * storages stream from the shard files' mappings into the new file; no tensor is materialised.
 */
public final class ShardMerge {
    private ShardMerge() {
    }

    /** What was merged. */
    public record Merged(long step, int shards, long bytes) {
    }

    /**
     * Writes the step {@code step} (or, if empty, the newest complete one) of the group checkpoint at
     * {@code checkpoint} to {@code out} (via {@code out.tmp}, fsynced, renamed).
     */
    public static Merged merge(Path checkpoint, OptionalLong step, Path out) throws IOException {
        ShardLayout layout = new ShardLayout(checkpoint);
        ShardManifest manifest = find(layout, step);
        List<PthReader> readers = new ArrayList<>();
        try {
            List<Map<?, ?>> roots = new ArrayList<>();
            Map<PthStorage, PthReader> owner = new IdentityHashMap<>();
            for (ShardManifest.Shard s : manifest.shards()) {
                PthReader reader = PthReader.open(layout.stepDir(manifest.step()).resolve(s.file()));
                readers.add(reader);
                reader.verify();
                roots.add((Map<?, ?>) reader.root());
                reader.storages().forEach(d -> owner.put(d.storage(), reader));
            }
            Map<String, Object> merged = ShardTrees.merge(roots);
            Path absolute = out.toAbsolutePath().normalize();
            Path tmp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
            try (FileChannelSink sink = FileChannelSink.create(tmp)) {
                PthWriter writer = new PthWriter(sink, PthWriter.archiveName(absolute), merged);
                for (PthStorage storage : writer.storages()) {
                    writer.beginStorage(storage);
                    StorageData data = owner.get(storage).data(storage);
                    for (ByteBuffer chunk : data.chunks()) {
                        writer.writeStorageBytes(chunk);
                    }
                }
                writer.finish();
                sink.force();
            }
            Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            NativeFile.fsyncDirectory(absolute.getParent());
            return new Merged(manifest.step(), manifest.shards().size(), Files.size(absolute));
        } finally {
            for (PthReader r : readers) {
                r.close();
            }
        }
    }

    private static ShardManifest find(ShardLayout layout, OptionalLong step) throws IOException {
        if (step.isEmpty()) {
            return layout.newestComplete().orElseThrow(() -> new IllegalArgumentException(
                    "no complete sharded step in " + layout + " (a step is complete once its manifest.json is written)"));
        }
        Optional<ShardManifest> m = layout.complete(step.getAsLong());
        return m.orElseThrow(() -> new IllegalArgumentException("step " + step.getAsLong() + " in " + layout
                + " is not complete (see the log for why)"));
    }
}
