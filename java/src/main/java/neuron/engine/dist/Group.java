package neuron.engine.dist;

import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BackendOptional;
import org.bytedeco.pytorch.BarrierOptions;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.ProcessGroup;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch_cuda;
import org.bytedeco.pytorch.nccl.ProcessGroupNCCL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;

import static org.bytedeco.pytorch.global.torch.tensor;

/**
 * A rank's membership of its process group, as {@code torch.distributed.init_process_group("env://")} makes it:
 * a {@code TCPStore} at {@code MASTER_ADDR:MASTER_PORT} (served by rank 0, or by the launcher), Gloo for CPU
 * tensors and, on a GPU, NCCL for CUDA tensors, behind one c10d {@code ProcessGroup} (what DDP's reducer takes).
 * Every collective here is the backend's own; a failed one (a peer gone, the timeout passed) throws.
 */
public final class Group implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Group.class);

    private final DistConfig config;
    private final TCPStore store;
    private final ProcessGroupGloo gloo;
    private final Backend nccl;
    private final ProcessGroup group;

    private Group(DistConfig config, TCPStore store, ProcessGroupGloo gloo, Backend nccl, ProcessGroup group) {
        this.config = config;
        this.store = store;
        this.gloo = gloo;
        this.nccl = nccl;
        this.group = group;
    }

    /**
     * Joins the group: connects to (or, rank 0 without a launcher, serves) the store, then waits until every
     * rank's backend is connected to every other, for at most the configured timeout. {@code cuda} adds NCCL
     * for CUDA tensors on device {@code LOCAL_RANK}.
     */
    public static Group join(DistConfig config, boolean cuda) {
        Milliseconds timeout = new Milliseconds(config.timeout().toMillis());
        boolean serves = config.rank() == 0 && !config.storeHosted();
        TCPStore store;
        try {
            store = new TCPStore(config.masterAddr(), new TCPStoreOptions()
                    .port((short) config.masterPort())
                    .isServer(serves)
                    .numWorkers(new SizeTPointer(1).put(config.worldSize()))
                    .waitWorkers(true)   // every rank checks in; the store's server waits until all have
                    .timeout(timeout));
        } catch (RuntimeException e) {
            throw new GroupFailure(config.describe() + " cannot reach the group's store at " + config.masterAddr()
                    + ":" + config.masterPort() + " within " + config.timeout().toSeconds() + " s: "
                    + firstLine(e), e);
        }
        try {
            ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(timeout);
            options.devices().push_back(glooDevice(config.masterAddr()));
            ProcessGroupGloo gloo = new ProcessGroupGloo(store, config.rank(), config.worldSize(), options);
            ProcessGroup group = new ProcessGroup(config.rank(), config.worldSize());
            group.setBackend(DeviceType.CPU, ProcessGroup.BackendType.GLOO, new BackendOptional(gloo));
            group.setDefaultBackend(ProcessGroup.BackendType.GLOO);
            Backend nccl = null;
            if (cuda) {
                torch_cuda.set_device((byte) config.localRank());
                ProcessGroupNCCL.Options ncclOptions = ProcessGroupNCCL.Options.create();
                ncclOptions.timeout(timeout);
                nccl = new ProcessGroupNCCL(store, config.rank(), config.worldSize(), ncclOptions);
                group.setBackend(DeviceType.CUDA, ProcessGroup.BackendType.NCCL, new BackendOptional(nccl));
                group.setDefaultBackend(ProcessGroup.BackendType.NCCL);
            }
            LOG.info("{} (pid {}) joined the group at {}:{} ({})", config.describe(), ProcessHandle.current().pid(),
                    config.masterAddr(), config.masterPort(), cuda ? "gloo + nccl" : "gloo");
            return new Group(config, store, gloo, nccl, group);
        } catch (RuntimeException e) {
            throw new GroupFailure(config.describe() + " could not connect to every other rank within "
                    + config.timeout().toSeconds() + " s: " + firstLine(e), e);
        }
    }

    /**
     * Gloo's network device: loopback for a group on one host, else the interface {@code GLOO_SOCKET_IFNAME}
     * names, else the address this host's name resolves to (torch's rules).
     */
    private static org.bytedeco.pytorch.gloo.Device glooDevice(String masterAddr) {
        String ifname = System.getenv("GLOO_SOCKET_IFNAME");
        if (ifname != null && !ifname.isBlank()) {
            return ProcessGroupGloo.createDeviceForInterface(ifname);
        }
        try {
            if (InetAddress.getByName(masterAddr).isLoopbackAddress()) {
                return ProcessGroupGloo.createDeviceForHostname("127.0.0.1");
            }
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("MASTER_ADDR " + masterAddr + " does not resolve");
        }
        return ProcessGroupGloo.createDefaultDevice();
    }

    public DistConfig config() {
        return config;
    }

    public int rank() {
        return config.rank();
    }

    public int size() {
        return config.worldSize();
    }

    /** The c10d process group, for DDP's reducer. */
    ProcessGroup processGroup() {
        return group;
    }

    /** A connection of its own to the group's store, for a thread that must not wait behind another's call. */
    Store storeConnection() {
        return store.clone();
    }

    /** Sums {@code t} over the ranks, in place. */
    public void allreduceSum(Tensor t) {
        allreduce(t, ReduceOp.RedOpType.SUM);
    }

    /** Reduces {@code t} over the ranks with {@code op}, in place. */
    void allreduce(Tensor t, ReduceOp.RedOpType op) {
        group.allreduce(new TensorVector(t), new AllreduceOptions().reduceOp(new ReduceOp(op)))._wait();
    }

    /** Starts sending {@code t} from {@code root} to every rank, in place; wait on the returned work. */
    Work broadcast(Tensor t, int root) {
        return group.broadcast(new TensorVector(t), new BroadcastOptions().rootRank(root));
    }

    /** Waits until every rank is here, for at most {@code timeout}. */
    public void barrier(Duration timeout) {
        group.barrier(new BarrierOptions().timeout(new Milliseconds(timeout.toMillis())))._wait();
    }

    /** Whether every rank holds the same {@code value}: one MIN and one MAX reduction. */
    public boolean agree(long value) {
        Tensor t = tensor(new long[]{value, -value});
        allreduce(t, ReduceOp.RedOpType.MAX);
        return t.get(0).item_long() == value && -t.get(1).item_long() == value;
    }

    /** Ends the group at once (a peer is gone, or this rank is done): pending collectives are abandoned. */
    @Override
    public void close() {
        try {
            group.abort();
        } catch (RuntimeException e) {
            LOG.debug("aborting the process group: {}", firstLine(e));
        }
    }

    /** The first line of a c10d error, without the "[/path/of/gloo/source.cc:123] " it starts with. */
    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        String line = nl < 0 ? m : m.substring(0, nl);
        return line.startsWith("[") && line.indexOf("] ") > 0 ? line.substring(line.indexOf("] ") + 2) : line;
    }
}
