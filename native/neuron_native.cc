#include "neuron_native.h"
#include "neuron_cuda.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

static int neg_errno() { return errno ? -errno : -EIO; }

int nn_abi_version() { return NN_ABI_VERSION; }

namespace {
struct CopyPart {
    char* dst;
    const char* src;
    size_t n;
};

void* copy_part(void* part) {
    auto* p = static_cast<CopyPart*>(part);
    memcpy(p->dst, p->src, p->n);
    return nullptr;
}
}  // namespace

// pthreads, not std::thread: pthread_create returns an error when a thread cannot start, where std::thread
// would throw std::system_error through the JNI frame and abort the JVM.
void nn_copy(void* dst, const void* src, size_t n, int threads) {
    // Below a few MiB, thread start-up costs more than it saves.
    const size_t min_per_thread = size_t(8) << 20;
    constexpr size_t max_workers = 64;
    size_t workers = std::min<size_t>(max_workers, size_t(std::max(1, threads)));
    workers = std::min(workers, std::max<size_t>(1, n / min_per_thread));
    if (workers == 1) {
        memcpy(dst, src, n);
        return;
    }
    // Split on 4 KiB boundaries so no two threads touch the same page.
    size_t part = ((n / workers) + 4095) & ~size_t(4095);
    CopyPart parts[max_workers];
    size_t count = 0;
    for (size_t off = 0; off < n && count < workers; off += part, count++) {
        parts[count] = {static_cast<char*>(dst) + off, static_cast<const char*>(src) + off, std::min(part, n - off)};
    }
    pthread_t ids[max_workers];
    size_t started = 1;   // parts [1, started) run on their own threads
    while (started < count && pthread_create(&ids[started], nullptr, copy_part, &parts[started]) == 0) started++;
    copy_part(&parts[0]);
    for (size_t i = started; i < count; i++) copy_part(&parts[i]);
    for (size_t i = 1; i < started; i++) pthread_join(ids[i], nullptr);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23   // Linux 5.14
#endif

int nn_populate_write(void* addr, size_t n) {
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    uintptr_t start = reinterpret_cast<uintptr_t>(addr) & ~(page - 1);
    uintptr_t end = (reinterpret_cast<uintptr_t>(addr) + n + page - 1) & ~(page - 1);
    if (end <= start) return 0;
    return madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE) == 0 ? 0 : neg_errno();
}

int nn_populate_write_supported() {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    void* m = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 0;
    int ok = madvise(m, page, MADV_POPULATE_WRITE) == 0;
    munmap(m, page);
    return ok;
}

void nn_touch_pages(void* addr, size_t n) {
    if (n == 0) return;
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    char* first = static_cast<char*>(addr);
    char* end = first + n;
    for (char* p = first; p < end; p = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) | (page - 1)) + 1)) {
        __atomic_fetch_add(p, 0, __ATOMIC_RELAXED);
    }
}

int nn_open_for_write(const char* path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return fd >= 0 ? fd : neg_errno();
}

int64_t nn_write_fully(int fd, const void* buf, size_t n) {
    const char* p = static_cast<const char*>(buf);
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, std::min(n - done, size_t(1) << 30));
        if (w < 0) {
            if (errno == EINTR) continue;
            return neg_errno();
        }
        if (w == 0) return -ENOSPC;
        done += size_t(w);
    }
    return int64_t(done);
}

int nn_fallocate(int fd, int64_t offset, int64_t length) {
    // KEEP_SIZE: reserve the blocks without moving end-of-file, which zip readers look for.
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length) == 0 ? 0 : neg_errno();
}

int nn_flush_range(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE) == 0 ? 0 : neg_errno();
}

int nn_drop_range(int fd, int64_t offset, int64_t length) {
    if (sync_file_range(fd, offset, length,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
        return neg_errno();
    }
    int rc = posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED);
    return rc == 0 ? 0 : -rc;
}

int nn_fsync(int fd) { return fsync(fd) == 0 ? 0 : neg_errno(); }

int nn_close(int fd) { return close(fd) == 0 ? 0 : neg_errno(); }

int nn_fsync_dir(const char* dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return neg_errno();
    int rc = fsync(fd) == 0 ? 0 : neg_errno();
    close(fd);
    return rc;
}

int nn_open_for_read(const char* path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : neg_errno();
}

int64_t nn_pread_fully(int fd, void* dst, size_t n, int64_t offset) {
    char* p = static_cast<char*>(dst);
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, p + done, std::min(n - done, size_t(1) << 30), offset + int64_t(done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return neg_errno();
        }
        if (r == 0) return -EIO;
        done += size_t(r);
    }
    return int64_t(done);
}

int nn_drop_cached(int fd, int64_t offset, int64_t length) {
    int rc = posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED);
    return rc == 0 ? 0 : -rc;
}

int nn_read_ahead(int fd, int64_t offset, int64_t length) {
    int rc = posix_fadvise(fd, offset, length, POSIX_FADV_WILLNEED);
    return rc == 0 ? 0 : -rc;
}

namespace {
int refuse_direct = 0;   // set only by tests: behave as a file system that refuses O_DIRECT
}

void nn_refuse_direct(int refuse) { __atomic_store_n(&refuse_direct, refuse, __ATOMIC_RELAXED); }

int nn_open_for_direct_read(const char* path) {
    if (__atomic_load_n(&refuse_direct, __ATOMIC_RELAXED)) return -EINVAL;
    int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
    return fd >= 0 ? fd : neg_errno();
}

int64_t nn_pread_upto(int fd, void* dst, size_t n, int64_t offset) {
    char* p = static_cast<char*>(dst);
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, p + done, std::min(n - done, size_t(1) << 30), offset + int64_t(done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return neg_errno();
        }
        if (r == 0) break;
        done += size_t(r);
    }
    return int64_t(done);
}

int64_t nn_copy_count_nonfinite_f32(void* dst, const void* src, size_t n) {
    unsigned char* out = static_cast<unsigned char*>(dst);
    const unsigned char* in = static_cast<const unsigned char*>(src);
    int64_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        uint32_t w;
        std::memcpy(&w, in + 4 * i, 4);
        std::memcpy(out + 4 * i, &w, 4);
        bad += (w & 0x7f800000u) == 0x7f800000u;
    }
    return bad;
}

int64_t nn_count_nonfinite_f32(const void* p, size_t n) {
    const unsigned char* bytes = static_cast<const unsigned char*>(p);
    int64_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
        uint32_t w;
        std::memcpy(&w, bytes + 4 * i, 4);   // no aliasing of float memory; compiles to one load
        bad += (w & 0x7f800000u) == 0x7f800000u;
    }
    return bad;
}

const char* nn_strerror(int code) {
    // One buffer per thread: the copier and writer threads may ask at the same moment.
    static thread_local char text[256];
    int e = -code;
    if (e >= NN_CUDA_ERROR_BASE) {
        nn_cuda_error_text(e - NN_CUDA_ERROR_BASE, text, sizeof text);
        return text;
    }
    // GNU strerror_r: either an immutable static string or the text written into the buffer.
    return strerror_r(e, text, sizeof text);
}
