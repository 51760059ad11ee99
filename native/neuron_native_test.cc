// C++ self-test of the native library (ctest), independent of the JVM.
#include "neuron_native.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>

static int failures = 0;
#define CHECK(c) do { if (!(c)) { std::fprintf(stderr, "FAIL %s:%d %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

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
        CHECK(nn_populate_write_supported() == 1 || nn_populate_write_supported() == 0);
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
    CHECK(nn_drop_cached(rfd, 0, 0) == 0);
    CHECK(nn_close(rfd) == 0);
    unlink(path);
    if (failures == 0) std::puts("neuron_native_test: all passed");
    return failures == 0 ? 0 : 1;
}
