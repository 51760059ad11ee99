package neuron.engine.dist;

import org.bytedeco.pytorch.BoolVector;
import org.bytedeco.pytorch.Reducer;
import org.bytedeco.pytorch.SizeTStringMap;
import org.bytedeco.pytorch.SizeTVector;
import org.bytedeco.pytorch.SizeTVectorVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import java.util.ArrayList;
import java.util.List;

/**
 * Gradient averaging overlapped with the backward pass, by PyTorch's own DDP reducer: the parameters are grouped
 * into buckets in the order the backward makes their gradients (the model's order reversed), a small first
 * bucket so communication starts early, then buckets of {@code bucketBytes}; as soon as every gradient of a
 * bucket is ready, the reducer divides it by the world size and starts an all-reduce of the bucket on the
 * group's backend while the backward goes on; at the end of the backward it waits for the last bucket and
 * writes the averages into the gradients. After the first step the reducer rebuilds its buckets in the order
 * the gradients actually came (as DDP does; it also stops recording that order then).
 */
final class GradientBuckets {
    /** DDP's first bucket: 1 MiB, so the all-reduce of the last layers starts while the rest is differentiated. */
    private static final long FIRST_BUCKET_BYTES = 1L << 20;

    private final Reducer reducer;
    private final TensorVector none = new TensorVector();

    /** Hooks {@code parameters} (trainable leaves, the model's order) to the reducer over {@code group}. */
    GradientBuckets(Group group, List<Tensor> parameters, List<String> names, long bucketBytes) {
        long first = Math.min(FIRST_BUCKET_BYTES, bucketBytes);
        SizeTVectorVector buckets = new SizeTVectorVector();
        for (List<Integer> bucket : assign(sizes(parameters), first, bucketBytes)) {
            SizeTVector indices = new SizeTVector();
            bucket.forEach(indices::push_back);
            buckets.push_back(indices);
        }
        SizeTStringMap nameOf = new SizeTStringMap();
        for (int i = 0; i < names.size(); i++) {
            nameOf.put(i, names.get(i));
        }
        this.reducer = new Reducer(new TensorVector(parameters.toArray(new Tensor[0])), buckets,
                group.processGroup(), new BoolVector(parameters.size()), bucketBytes,
                /* find_unused_parameters */ false, /* gradient_as_bucket_view */ false, nameOf, first,
                /* skip_all_reduce_unused_params */ false, /* use_python_reducer */ false);
    }

    /**
     * Parameter indices in buckets: in reverse order, a bucket closes once it holds {@code first} bytes (the
     * first bucket) or {@code rest} bytes (the others).
     */
    static List<List<Integer>> assign(long[] bytes, long first, long rest) {
        List<List<Integer>> buckets = new ArrayList<>();
        List<Integer> open = new ArrayList<>();
        long filled = 0;
        for (int i = bytes.length - 1; i >= 0; i--) {
            open.add(i);
            filled += bytes[i];
            if (filled >= (buckets.isEmpty() ? first : rest)) {
                buckets.add(open);
                open = new ArrayList<>();
                filled = 0;
            }
        }
        if (!open.isEmpty()) {
            buckets.add(open);
        }
        return buckets;
    }

    /** Arms the reducer for the coming backward; every rank calls it at the same step. */
    void beforeBackward() {
        reducer.rebuild_buckets();   // once, after the first step (a collective: rank 0's order wins); else a no-op
        reducer.prepare_for_forward();
        reducer.prepare_for_backward(none);
    }

    private static long[] sizes(List<Tensor> parameters) {
        long[] sizes = new long[parameters.size()];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = parameters.get(i).nbytes();
        }
        return sizes;
    }
}
