// C++ self-test of the native library (ctest), independent of the JVM.
#include "neuron_native.h"
#include "neuron_cuda.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>

static int failures = 0;
#define CHECK(c) do { if (!(c)) { std::fprintf(stderr, "FAIL %s:%d %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static void* idle(void*) { return nullptr; }

// Exit status of a child that copies with 4 threads where no thread can be started: the copy must
// complete on the calling thread (0), not abort the process with an escaped C++ exception.
static int copy_without_threads() {
    const size_t n = size_t(64) << 20;
    std::vector<unsigned char> src(n), dst(n, 0);
    for (size_t i = 0; i < n; i++) src[i] = static_cast<unsigned char>(i * 7 + 1);
    // RLIMIT_NPROC counts every task of the real user and does not bind root: run as nobody.
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) return 3;
    struct rlimit one = {1, 1};
    if (setrlimit(RLIMIT_NPROC, &one) != 0) return 3;
    pthread_t t;
    if (pthread_create(&t, nullptr, idle, nullptr) == 0) {   // the limit did not bite: nothing would be tested
        pthread_join(t, nullptr);
        return 4;
    }
    nn_copy(dst.data(), src.data(), n, 4);
    return std::memcmp(dst.data(), src.data(), n) == 0 ? 0 : 1;
}

static void check_copy_without_threads() {
    fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) _exit(copy_without_threads());
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status)) std::fprintf(stderr, "copy without threads: killed by signal %d\n", WTERMSIG(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) >= 3) {
        std::fprintf(stderr, "copy without threads: could not make thread creation fail (status %d)\n",
                     WEXITSTATUS(status));
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// Two threads ask for the text of different codes at once; each must read its own, whole.
static void check_strerror_threads() {
    auto expect = [](int code) { return std::string(nn_strerror(code)); };
    const int codes[2] = {-(NN_CUDA_ERROR_BASE + 2), -(NN_CUDA_ERROR_BASE + 719)};
    const std::string texts[2] = {expect(codes[0]), expect(codes[1])};
    CHECK(texts[0] != texts[1]);
    int wrong[2] = {0, 0};
    std::thread threads[2];
    for (int k = 0; k < 2; k++) {
        threads[k] = std::thread([&, k] {
            for (int i = 0; i < 200000; i++) {
                if (texts[k] != nn_strerror(codes[k])) wrong[k]++;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(wrong[0] == 0 && wrong[1] == 0);
    CHECK(std::strcmp(nn_strerror(-ENOENT), "No such file or directory") == 0);
    CHECK(std::strstr(nn_strerror(-(NN_CUDA_ERROR_BASE + 2)), "CUDA error 2") != nullptr);
}

// The CUDA functions keep their contract in every build: -ENOSYS without CUDA; with it and no device,
// a code whose text names the CUDA error, and a null stager.
static void check_cuda_contract() {
    void* stager = reinterpret_cast<void*>(1);
    int created = nn_cuda_stager_create(&stager);
#ifdef NEURON_WITH_CUDA
    int available = nn_cuda_available();
    CHECK(available != -ENOSYS);
    std::printf("neuron_native_test: CUDA build, nn_cuda_available = %d (%s)\n", available,
                available == 1 ? "a device is visible" : nn_strerror(available));
    if (available != 1) {
        CHECK(created < 0 && stager == nullptr);
        CHECK(std::strstr(nn_strerror(created), "CUDA error") != nullptr || created == -ELIBACC);
    }
    if (created == 0) nn_cuda_stager_destroy(stager);
#else
    CHECK(nn_cuda_available() == -ENOSYS);
    CHECK(created == -ENOSYS && stager == nullptr);
    char byte = 0;
    CHECK(nn_cuda_host_register(&byte, 1) == -ENOSYS);
    CHECK(nn_cuda_stager_copy(nullptr, &byte, &byte, 1) == -ENOSYS);
    nn_cuda_stager_destroy(nullptr);
#endif
    CHECK(nn_cuda_stager_begin(nullptr, nullptr) < 0);
}

static void check_count_nonfinite() {
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> v(1003, 1.5f);
    v[0] = std::numeric_limits<float>::quiet_NaN();
    v[500] = -inf;
    v[1002] = inf;
    v[7] = std::numeric_limits<float>::max();
    v[8] = std::numeric_limits<float>::denorm_min();
    CHECK(nn_count_nonfinite_f32(v.data(), v.size()) == 3);
    CHECK(nn_count_nonfinite_f32(v.data() + 1, 499) == 0);
    CHECK(nn_count_nonfinite_f32(v.data(), 0) == 0);
    std::vector<float> copied(v.size(), 0.0f);
    CHECK(nn_copy_count_nonfinite_f32(copied.data(), v.data(), v.size()) == 3);
    CHECK(std::memcmp(copied.data(), v.data(), v.size() * sizeof(float)) == 0);
}

static void check_direct_refusal(const char* path) {
    nn_refuse_direct(1);
    CHECK(nn_open_for_direct_read(path) == -EINVAL);
    nn_refuse_direct(0);
    int fd = nn_open_for_direct_read(path);
    CHECK(fd >= 0 || fd == -EINVAL);   // a file system may refuse O_DIRECT; the flag must not stay set
    if (fd >= 0) CHECK(nn_close(fd) == 0);
}

// Whether the running kernel's release is at least major.minor.
static bool kernel_at_least(int major, int minor) {
    utsname u;
    int ma = 0, mi = 0;
    if (uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
    return ma > major || (ma == major && mi >= minor);
}

int main() {
    CHECK(nn_abi_version() == NN_ABI_VERSION);
    for (size_t n : {size_t(0), size_t(1), size_t(4097), size_t(33) << 20}) {
        std::vector<unsigned char> src(n), dst(n);
        for (size_t i = 0; i < n; i++) src[i] = static_cast<unsigned char>(i * 131 + 7);
        for (int threads : {1, 2, 4}) {
            std::fill(dst.begin(), dst.end(), 0);
            nn_copy(dst.data(), src.data(), n, threads);
            CHECK(std::memcmp(dst.data(), src.data(), n) == 0);
        }
    }
    {
        size_t n = size_t(4) << 20;
        void* m = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK(m != MAP_FAILED);
        static_cast<char*>(m)[5] = 9;
        CHECK(nn_populate_write(static_cast<char*>(m) + 3, n - 3) == 0);
        CHECK(static_cast<char*>(m)[5] == 9);
        // the kernel says which answer is right: MADV_POPULATE_WRITE came with Linux 5.14
        CHECK(nn_populate_write_supported() == (kernel_at_least(5, 14) ? 1 : 0));
        for (size_t i = 0; i < n; i += 4096) static_cast<char*>(m)[i] = char(i / 4096);
        nn_touch_pages(static_cast<char*>(m) + 1, n - 1);
        bool same = true;
        for (size_t i = 0; i < n; i += 4096) same = same && static_cast<char*>(m)[i] == char(i / 4096);
        CHECK(same);
        munmap(m, n);
    }
    char path[] = "/tmp/nn_testXXXXXX";
    int tmp = mkstemp(path);
    CHECK(tmp >= 0);
    close(tmp);
    int fd = nn_open_for_write(path);
    CHECK(fd >= 0);
    const char msg[] = "neuron";
    CHECK(nn_fallocate(fd, 0, 4096) == 0);
    CHECK(nn_write_fully(fd, msg, sizeof msg) == sizeof msg);
    CHECK(nn_flush_range(fd, 0, 0) == 0);
    CHECK(nn_fsync(fd) == 0);
    CHECK(nn_drop_range(fd, 0, 0) == 0);
    CHECK(nn_close(fd) == 0);
    CHECK(nn_fsync_dir("/tmp") == 0);
    CHECK(nn_open_for_write("/nonexistent-dir/x") < 0);
    int rfd = nn_open_for_read(path);
    CHECK(rfd >= 0);
    char back[sizeof msg] = {0};
    CHECK(nn_pread_fully(rfd, back, sizeof msg - 2, 2) == int64_t(sizeof msg - 2));
    CHECK(std::memcmp(back, msg + 2, sizeof msg - 2) == 0);
    CHECK(nn_pread_fully(rfd, back, sizeof msg, 4) == -EIO);
    CHECK(nn_pread_upto(rfd, back, sizeof msg, 4) == int64_t(sizeof msg - 4));   // short only at end of file
    CHECK(nn_read_ahead(rfd, 0, 0) == 0);
    CHECK(nn_drop_cached(rfd, 0, 0) == 0);
    CHECK(nn_close(rfd) == 0);
    check_direct_refusal(path);
    unlink(path);
    check_strerror_threads();
    check_cuda_contract();
    check_copy_without_threads();
    check_count_nonfinite();
    if (failures == 0) std::puts("neuron_native_test: all passed");
    return failures == 0 ? 0 : 1;
}
