// Standalone test of the CUDA staging functions (no JVM): device memory is copied into a memory-mapped
// file through nn_cuda_* exactly as a snapshot of CUDA tensors uses them (the mapping populated, then
// registered or not, a side stream that waits on the producer, events), the bytes are checked, and the
// copy rates into pageable and pinned mappings are reported.
//
//   neuron_cuda_test [--dir DIR|memfd] [--gib G] [--json FILE] [--disk-dir DIR]   (default: /dev/shm if it
//                                                                                 has room, else memfd; 4 GiB)
//   neuron_cuda_test --case beyond-eof|memlock|file-mapping --dir DIR   (one failure case, own process)
//
// --dir memfd maps a memfd_create file: the same shared-memory pages as a file on /dev/shm, without the
// mount's size limit (containers often give /dev/shm 64 MiB).
//
// Exit status: 0 passed, 1 failed, 77 no CUDA device (skipped; CTest counts it as a skip).
#include "neuron_cuda.h"

#include <cuda_runtime.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

int failures = 0;
#define CHECK(c)                                                                   \
    do {                                                                           \
        if (!(c)) {                                                                \
            std::fprintf(stderr, "FAIL %s:%d %s\n", __FILE__, __LINE__, #c);       \
            failures++;                                                            \
        }                                                                          \
    } while (0)
// A native call that must succeed; its error text when it does not.
#define NN_OK(call)                                                                                  \
    do {                                                                                             \
        int rc_ = (call);                                                                            \
        if (rc_ != 0) {                                                                              \
            std::fprintf(stderr, "FAIL %s:%d %s: %s\n", __FILE__, __LINE__, #call, nn_strerror(rc_)); \
            failures++;                                                                              \
        }                                                                                            \
    } while (0)
#define CUDA_OK(call)                                                                                         \
    do {                                                                                                      \
        cudaError_t e_ = (call);                                                                              \
        if (e_ != cudaSuccess) {                                                                              \
            std::fprintf(stderr, "FAIL %s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_));   \
            std::exit(1);                                                                                     \
        }                                                                                                     \
    } while (0)

constexpr size_t MiB = size_t(1) << 20;
constexpr size_t GiB = size_t(1) << 30;
// The copy is queued in pieces of this size, as a snapshot queues one copy per tensor (or chunk).
constexpr size_t piece = 256 * MiB;

__host__ __device__ inline uint64_t pattern(uint64_t index, uint64_t seed) {
    uint64_t z = index + seed * 0x9E3779B97F4A7C15ull + 1;   // splitmix64: every word differs, per seed
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

__global__ void fill(uint64_t* words, size_t count, uint64_t seed) {
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count; i += size_t(gridDim.x) * blockDim.x) {
        words[i] = pattern(i, seed);
    }
}

// Fills n bytes of device memory with the seed's pattern, queued on the legacy default stream (where
// LibTorch queues a loop's work), without waiting.
void fill_async(void* device, size_t n, uint64_t seed) {
    fill<<<1024, 256>>>(static_cast<uint64_t*>(device), n / 8, seed);
    CUDA_OK(cudaGetLastError());
}

// Words of host memory that do not hold the seed's pattern (checked on all cores).
size_t mismatches(const void* host, size_t n, uint64_t seed) {
    const uint64_t* words = static_cast<const uint64_t*>(host);
    size_t count = n / 8;
    unsigned workers = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
    std::atomic<size_t> wrong{0};
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < workers; w++) {
        pool.emplace_back([&, w] {
            size_t from = count * w / workers, to = count * (w + 1) / workers, bad = 0;
            for (size_t i = from; i < to; i++) bad += words[i] != pattern(i, seed);
            wrong += bad;
        });
    }
    for (auto& t : pool) t.join();
    return wrong;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

const std::string memfd = "memfd";

// A shared mapping of a file in dir, as staging maps its cycle files; the file is unlinked at once.
// file_bytes < map_bytes leaves pages past the end of the file, which nothing can back.
struct Mapping {
    void* addr = MAP_FAILED;
    size_t map_bytes = 0;
    int fd = -1;

    Mapping(const std::string& dir, size_t file_bytes, size_t map_bytes_) : map_bytes(map_bytes_) {
        if (dir == memfd) {
            fd = memfd_create("neuron-cuda-test", MFD_CLOEXEC);
        } else {
            std::string path = dir + "/neuron-cuda-test-XXXXXX";
            fd = mkstemp(&path[0]);
            if (fd >= 0) unlink(path.c_str());
        }
        if (fd < 0) {
            std::fprintf(stderr, "cannot create a file in %s: %s\n", dir.c_str(), std::strerror(errno));
            std::exit(1);
        }
        if (ftruncate(fd, off_t(file_bytes)) != 0) {
            std::fprintf(stderr, "cannot size the file in %s: %s\n", dir.c_str(), std::strerror(errno));
            std::exit(1);
        }
        addr = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (addr == MAP_FAILED) {
            std::fprintf(stderr, "cannot map the file in %s: %s\n", dir.c_str(), std::strerror(errno));
            std::exit(1);
        }
        // Staging populates a cycle file's pages before a copy lands in them (a full tmpfs is then an
        // error code, not a SIGBUS in the middle of the copy).
        int rc = nn_populate_write(addr, file_bytes);
        if (rc == -EINVAL) {   // a kernel before 5.14: touch every page instead
            volatile char* page = static_cast<char*>(addr);
            for (size_t i = 0; i < file_bytes; i += 4096) page[i] = page[i];
            rc = 0;
        }
        if (rc != 0) {
            std::fprintf(stderr, "cannot populate %zu MiB in %s: %s\n", file_bytes / MiB, dir.c_str(), nn_strerror(rc));
            std::exit(1);
        }
    }
    ~Mapping() {
        if (addr != MAP_FAILED) munmap(addr, map_bytes);
        if (fd >= 0) close(fd);
    }
    char* bytes() const { return static_cast<char*>(addr); }
};

struct Copy {
    double enqueue_s;   // begin, every piece's copy and end returned (the copier thread is free again)
    double total_s;     // ... and wait returned: the bytes are in the mapping
    double gbps;
};

// The snapshot's sequence on the staging side: begin after the producer's work, one copy per piece, end,
// wait. The producer's work must already be finished for a rate to mean anything.
Copy stage(void* stager, void* dst, const void* src, size_t n) {
    auto t0 = std::chrono::steady_clock::now();
    NN_OK(nn_cuda_stager_begin(stager, nullptr));
    for (size_t off = 0; off < n; off += piece) {
        NN_OK(nn_cuda_stager_copy(stager, static_cast<char*>(dst) + off, static_cast<const char*>(src) + off,
                                  std::min(piece, n - off)));
    }
    NN_OK(nn_cuda_stager_end(stager));
    double enqueued = seconds_since(t0);
    NN_OK(nn_cuda_stager_wait(stager));
    double total = seconds_since(t0);
    return {enqueued, total, double(n) / total / 1e9};
}

bool on_tmpfs(const std::string& dir) {
    struct statfs fs;
    return dir == memfd || (statfs(dir.c_str(), &fs) == 0 && fs.f_type == 0x01021994);   // TMPFS_MAGIC
}

// Room for a mapping in dir; a memfd is bounded by the memory available.
size_t free_bytes(const std::string& dir) {
    if (dir == memfd) return size_t(sysconf(_SC_AVPHYS_PAGES)) * size_t(sysconf(_SC_PAGESIZE));
    struct statvfs v;
    return statvfs(dir.c_str(), &v) == 0 ? size_t(v.f_bavail) * v.f_frsize : 0;
}

// --- the failure cases, each in a process of its own (a crash there is a failure here, not the end) ---

// A mapping that reaches past the end of its file, as when a full tmpfs could not back a cycle file:
// registration must fail with a code, and the part the file backs still stages, pageable.
int case_beyond_eof(const std::string& dir) {
    const size_t backed = 64 * MiB;
    Mapping m(dir, backed, 2 * backed);
    void* device = nullptr;
    CUDA_OK(cudaMalloc(&device, backed));
    int rc = nn_cuda_host_register(m.addr, m.map_bytes);
    std::printf("  beyond-eof: registering %zu MiB of which %zu MiB have no file behind them: %s\n", m.map_bytes / MiB,
                backed / MiB, rc == 0 ? "accepted" : nn_strerror(rc));
    CHECK(rc < 0);
    if (rc == 0) nn_cuda_host_unregister(m.addr);
    void* stager = nullptr;
    NN_OK(nn_cuda_stager_create(&stager));
    fill_async(device, backed, 11);
    stage(stager, m.addr, device, backed);
    CHECK(mismatches(m.addr, backed, 11) == 0);
    nn_cuda_stager_destroy(stager);
    cudaFree(device);
    return failures ? 1 : 0;
}

// Registers a fresh mapping of n bytes in dir, stages a pattern into it, pinned or (refused) pageable,
// and checks the bytes: the outcome of the registration is reported, the bytes must arrive either way.
int register_and_stage(const char* label, const std::string& dir, size_t n, uint64_t seed) {
    Mapping m(dir, n, n);
    void* device = nullptr;
    CUDA_OK(cudaMalloc(&device, n));
    auto t0 = std::chrono::steady_clock::now();
    int rc = nn_cuda_host_register(m.addr, n);
    double reg = seconds_since(t0);
    std::printf("  %s: registering %zu MiB on %s (%s, euid %d): %s (%.3f s)\n", label, n / MiB, dir.c_str(),
                on_tmpfs(dir) ? "tmpfs" : "not tmpfs", int(geteuid()), rc == 0 ? "accepted" : nn_strerror(rc), reg);
    void* stager = nullptr;
    NN_OK(nn_cuda_stager_create(&stager));
    fill_async(device, n, seed);
    Copy c = stage(stager, m.addr, device, n);
    std::printf("  %s: %zu MiB staged %s at %.2f GB/s\n", label, n / MiB, rc == 0 ? "pinned" : "pageable", c.gbps);
    CHECK(mismatches(m.addr, n, seed) == 0);
    if (rc == 0) NN_OK(nn_cuda_host_unregister(m.addr));
    nn_cuda_stager_destroy(stager);
    cudaFree(device);
    return failures ? 1 : 0;
}

// RLIMIT_MEMLOCK far below the mapping: the driver pins through its own accounting, and root may not be
// bound; whatever it makes of it, the call returns and the bytes arrive.
int case_memlock(const std::string& dir) {
    struct rlimit tiny = {64 * 1024, 64 * 1024};
    if (setrlimit(RLIMIT_MEMLOCK, &tiny) != 0) {
        std::fprintf(stderr, "cannot lower RLIMIT_MEMLOCK: %s\n", std::strerror(errno));
        return 1;
    }
    return register_and_stage("memlock (RLIMIT_MEMLOCK = 64 KiB)", dir, 256 * MiB, 12);
}

// A mapping of a file on a disk file system (staging beside the checkpoint when tmpfs has no room): some
// kernels refuse long-term pins of such pages.
int case_file_mapping(const std::string& dir) { return register_and_stage("file-mapping", dir, 256 * MiB, 13); }

// Runs this program again for one case: CUDA does not survive fork(), so the child is a fresh process.
void run_case(const char* name, const std::string& dir) {
    std::fflush(stdout);
    const char* argv[] = {"/proc/self/exe", "--case", name, "--dir", dir.c_str(), nullptr};
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, const_cast<char**>(argv), environ);
    if (rc != 0) {
        std::fprintf(stderr, "FAIL cannot start case %s: %s\n", name, std::strerror(rc));
        failures++;
        return;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) std::fprintf(stderr, "FAIL case %s: killed by signal %d\n", name, WTERMSIG(status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

struct Args {
    std::string dir;
    std::string disk_dir;
    std::string json;
    std::string single_case;
    double gib = 4;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; i++) {
        std::string k = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (!v) {
            std::fprintf(stderr, "usage: neuron_cuda_test [--dir DIR] [--gib G] [--json FILE] [--disk-dir DIR]\n");
            std::exit(2);
        }
        if (k == "--dir") a.dir = v;
        else if (k == "--disk-dir") a.disk_dir = v;
        else if (k == "--json") a.json = v;
        else if (k == "--case") a.single_case = v;
        else if (k == "--gib") a.gib = std::atof(v);
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            std::exit(2);
        }
        i++;
    }
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    Args args = parse(argc, argv);
    if (args.single_case == "beyond-eof") return case_beyond_eof(args.dir);
    if (args.single_case == "memlock") return case_memlock(args.dir);
    if (args.single_case == "file-mapping") return case_file_mapping(args.dir);
    if (!args.single_case.empty()) {
        std::fprintf(stderr, "unknown case %s\n", args.single_case.c_str());
        return 2;
    }

    int devices = 0;
    cudaError_t probe = cudaGetDeviceCount(&devices);
    int available = nn_cuda_available();
    if (args.dir.empty()) {
        args.dir = free_bytes("/dev/shm") > size_t((args.gib + 1) * 1.15 * double(GiB)) ? "/dev/shm" : memfd;
    }
    if (probe != cudaSuccess || devices == 0) {
        // Where there is no device the functions must still answer with codes, never crash.
        std::printf("neuron_cuda_test: no CUDA device (%s); nn_cuda_available() = %d: %s\n",
                    probe == cudaSuccess ? "the runtime reports none" : cudaGetErrorName(probe), available,
                    nn_strerror(available));
        CHECK(available <= 0);
        void* stager = reinterpret_cast<void*>(1);
        int rc = nn_cuda_stager_create(&stager);
        CHECK(rc < 0 && stager == nullptr);
        char byte = 0;
        CHECK(nn_cuda_host_register(&byte, 1) < 0);
        if (failures) return 1;
        std::printf("neuron_cuda_test: skipped (the staging test needs a GPU)\n");
        return 77;
    }
    CHECK(available == 1);

    cudaDeviceProp prop;
    CUDA_OK(cudaGetDeviceProperties(&prop, 0));
    size_t device_free = 0, device_total = 0;
    CUDA_OK(cudaMemGetInfo(&device_free, &device_total));
    size_t n = size_t(args.gib * double(GiB)) & ~(2 * MiB - 1);
    size_t room = std::min(free_bytes(args.dir) / 10 * 9, device_free / 10 * 8) & ~(2 * MiB - 1);
    if (n > room) {
        std::printf("neuron_cuda_test: %zu MiB do not fit (%s has %zu MiB free, the device %zu MiB); using %zu MiB\n",
                    n / MiB, args.dir.c_str(), free_bytes(args.dir) / MiB, device_free / MiB, room / MiB);
        n = room;
    }
    if (n < 256 * MiB) {
        std::fprintf(stderr, "FAIL less than 256 MiB of room in %s\n", args.dir.c_str());
        return 1;
    }
    std::printf("neuron_cuda_test: %s (sm_%d%d, %zu GiB), %.2f GiB staged into a mapping on %s (%s)\n", prop.name,
                prop.major, prop.minor, device_total / GiB, double(n) / GiB, args.dir.c_str(),
                on_tmpfs(args.dir) ? "tmpfs" : "not tmpfs");

    void* device = nullptr;
    CUDA_OK(cudaMalloc(&device, n));
    Mapping m(args.dir, n, n);
    void* stager = nullptr;
    NN_OK(nn_cuda_stager_create(&stager));

    // 1. pageable: the mapping as staging has it without registration
    fill_async(device, n, 1);
    CUDA_OK(cudaDeviceSynchronize());
    Copy pageable = stage(stager, m.addr, device, n);
    CHECK(mismatches(m.addr, n, 1) == 0);
    std::printf("  pageable: %.2f GB/s (%.3f s; the copier thread was busy %.3f s of it)\n", pageable.gbps,
                pageable.total_s, pageable.enqueue_s);

    // 2. pinned: the same mapping registered
    auto t0 = std::chrono::steady_clock::now();
    int registered = nn_cuda_host_register(m.addr, n);
    double register_s = seconds_since(t0);
    Copy pinned{0, 0, 0};
    double unregister_s = 0;
    if (registered != 0) {
        std::printf("  pinned: NOT MEASURED, registration refused: %s\n", nn_strerror(registered));
    } else {
        fill_async(device, n, 2);
        CUDA_OK(cudaDeviceSynchronize());
        pinned = stage(stager, m.addr, device, n);
        CHECK(mismatches(m.addr, n, 2) == 0);
        std::printf("  pinned: %.2f GB/s (%.3f s; the copier thread was busy %.6f s of it); registration %.3f s "
                    "(%.1f GB/s)\n", pinned.gbps, pinned.total_s, pinned.enqueue_s, register_s,
                    double(n) / register_s / 1e9);

        // 3. ordering, as the loop relies on it: the producer's last step is still running when the copy is
        // queued (begin must wait for it), and the next step is queued before the copy is done (order must
        // hold it back). The host never waits in between.
        fill_async(device, n, 3);
        NN_OK(nn_cuda_stager_begin(stager, nullptr));
        for (size_t off = 0; off < n; off += piece) {
            NN_OK(nn_cuda_stager_copy(stager, m.bytes() + off, static_cast<char*>(device) + off, std::min(piece, n - off)));
        }
        NN_OK(nn_cuda_stager_end(stager));
        NN_OK(nn_cuda_stager_order(stager, nullptr));
        fill_async(device, n, 4);   // the next optimizer step
        NN_OK(nn_cuda_stager_wait(stager));
        size_t wrong = mismatches(m.addr, n, 3);
        CHECK(wrong == 0);
        std::printf("  ordering: begin and order kept the copy between two steps (%zu words wrong)\n", wrong);
        CUDA_OK(cudaDeviceSynchronize());

        // The same without order(), to show what the event prevents (information, not a check: a race).
        fill_async(device, n, 5);
        CUDA_OK(cudaDeviceSynchronize());
        NN_OK(nn_cuda_stager_begin(stager, nullptr));
        for (size_t off = 0; off < n; off += piece) {
            NN_OK(nn_cuda_stager_copy(stager, m.bytes() + off, static_cast<char*>(device) + off, std::min(piece, n - off)));
        }
        NN_OK(nn_cuda_stager_end(stager));
        fill_async(device, n, 6);
        NN_OK(nn_cuda_stager_wait(stager));
        std::printf("  without order(): %.1f%% of the snapshot came from the next step\n",
                    100.0 * double(mismatches(m.addr, n, 5)) / double(n / 8));
        CUDA_OK(cudaDeviceSynchronize());

        // 4. registering twice is refused with a code the caller can read, and leaves no error behind
        int again = nn_cuda_host_register(m.addr, n);
        CHECK(again == -(NN_CUDA_ERROR_BASE + int(cudaErrorHostMemoryAlreadyRegistered)));
        CHECK(std::strstr(nn_strerror(again), "cudaErrorHostMemoryAlreadyRegistered") != nullptr);
        CHECK(cudaGetLastError() == cudaSuccess);   // nothing left pending for LibTorch's next check
        std::printf("  registering again: %s\n", nn_strerror(again));

        t0 = std::chrono::steady_clock::now();
        NN_OK(nn_cuda_host_unregister(m.addr));
        unregister_s = seconds_since(t0);
    }

    // 5. the alternative: a pinned bounce buffer (cudaHostAlloc), then a CPU copy into the mapping
    size_t bounce_n = std::min(n, GiB);
    void* bounce = nullptr;
    CUDA_OK(cudaHostAlloc(&bounce, bounce_n, cudaHostAllocPortable));
    fill_async(device, bounce_n, 7);
    CUDA_OK(cudaDeviceSynchronize());
    Copy into_bounce = stage(stager, bounce, device, bounce_n);
    CHECK(mismatches(bounce, bounce_n, 7) == 0);
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    double memcpy_gbps[2] = {0, 0};
    int memcpy_threads[2] = {1, int(std::min(8u, cores))};
    for (int k = 0; k < 2; k++) {
        std::memset(m.addr, 0, bounce_n);
        t0 = std::chrono::steady_clock::now();
        nn_copy(m.addr, bounce, bounce_n, memcpy_threads[k]);
        memcpy_gbps[k] = double(bounce_n) / seconds_since(t0) / 1e9;
        CHECK(mismatches(m.addr, bounce_n, 7) == 0);
    }
    std::printf("  bounce buffer: device -> cudaHostAlloc %.2f GB/s; then nn_copy into the mapping %.2f GB/s "
                "(1 thread), %.2f GB/s (%d threads)\n", into_bounce.gbps, memcpy_gbps[0], memcpy_gbps[1],
                memcpy_threads[1]);
    cudaFreeHost(bounce);
    nn_cuda_stager_destroy(stager);
    cudaFree(device);

    // 6. the failure cases
    run_case("beyond-eof", args.dir);
    run_case("memlock", args.dir);
    if (!args.disk_dir.empty()) run_case("file-mapping", args.disk_dir);

    if (!args.json.empty()) {
        FILE* f = std::fopen(args.json.c_str(), "w");
        if (!f) {
            std::fprintf(stderr, "FAIL cannot write %s\n", args.json.c_str());
            return 1;
        }
        std::fprintf(f,
                     "{\"device\": \"%s\", \"bytes\": %zu, \"dir\": \"%s\", \"tmpfs\": %s, \"piece_bytes\": %zu,\n"
                     " \"pageable_gbps\": %.3f, \"pageable_s\": %.4f, \"pageable_enqueue_s\": %.4f,\n"
                     " \"pinned_registered\": %s, \"pinned_gbps\": %.3f, \"pinned_s\": %.4f, \"pinned_enqueue_s\": %.6f,\n"
                     " \"register_s\": %.4f, \"unregister_s\": %.4f,\n"
                     " \"bounce_bytes\": %zu, \"bounce_d2h_gbps\": %.3f, \"bounce_memcpy_gbps_1thread\": %.3f,"
                     " \"bounce_memcpy_gbps_%dthreads\": %.3f,\n \"failures\": %d}\n",
                     prop.name, n, args.dir.c_str(), on_tmpfs(args.dir) ? "true" : "false", piece, pageable.gbps,
                     pageable.total_s, pageable.enqueue_s, registered == 0 ? "true" : "false", pinned.gbps,
                     pinned.total_s, pinned.enqueue_s, register_s, unregister_s, bounce_n, into_bounce.gbps,
                     memcpy_gbps[0], memcpy_threads[1], memcpy_gbps[1], failures);
        std::fclose(f);
    }
    std::printf(failures ? "neuron_cuda_test: %d FAILED\n" : "neuron_cuda_test: all passed\n", failures);
    return failures ? 1 : 0;
}
