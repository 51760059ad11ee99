// neuron engine native library: copies and Linux I/O at the raw-pointer level.
// Every function returns 0 (or a byte count) on success and -errno on failure,
// so the Java side can turn a failure into one clear line without JVM crashes.
#pragma once
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define NN_API extern "C" __attribute__((visibility("default")))
#else
#define NN_API extern "C"
#endif

// Bumped when a signature changes; Java checks it at load (the smoke function).
#define NN_ABI_VERSION 5

NN_API int nn_abi_version();

// Copies n bytes from src to dst with up to `threads` threads (1 = plain memcpy). A part whose thread
// cannot be started (RLIMIT_NPROC, no memory for a stack) is copied by the calling thread: the copy
// always completes.
NN_API void nn_copy(void* dst, const void* src, size_t n, int threads);

// Populates the pages of a shared mapping [addr, addr+n) for writing without changing their contents
// (madvise MADV_POPULATE_WRITE), so a later copy into them runs at warm-memory speed. Safe to call while
// another thread writes into the range. addr need not be page aligned.
NN_API int nn_populate_write(void* addr, size_t n);

// 1 when the kernel has MADV_POPULATE_WRITE (Linux >= 5.14), else 0: probed once on a private mapping.
NN_API int nn_populate_write_supported();

// The fallback of nn_populate_write: faults in each page of [addr, addr+n) for writing with an atomic add of
// zero to one byte per page, so the contents stay as they are even while another thread writes into the range.
// Unlike madvise it cannot report a full tmpfs: the kernel sends SIGBUS instead.
NN_API void nn_touch_pages(void* addr, size_t n);

// --- files ---
NN_API int nn_open_for_write(const char* path);          // O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644
NN_API int64_t nn_write_fully(int fd, const void* buf, size_t n);
NN_API int nn_fallocate(int fd, int64_t offset, int64_t length);   // reserve blocks, file size unchanged
NN_API int nn_flush_range(int fd, int64_t offset, int64_t length);   // start writeback, do not wait
NN_API int nn_drop_range(int fd, int64_t offset, int64_t length);    // wait for writeback, then evict from page cache
NN_API int nn_fsync(int fd);
NN_API int nn_close(int fd);
NN_API int nn_fsync_dir(const char* dir);
NN_API int nn_open_for_read(const char* path);           // O_RDONLY|O_CLOEXEC
// Reads exactly n bytes at `offset` into dst (pread, retried on EINTR and short reads); -EIO at end of file.
NN_API int64_t nn_pread_fully(int fd, void* dst, size_t n, int64_t offset);
NN_API int nn_drop_cached(int fd, int64_t offset, int64_t length);   // posix_fadvise DONTNEED: clean pages only
NN_API int nn_read_ahead(int fd, int64_t offset, int64_t length);    // posix_fadvise WILLNEED: start reading, no wait
// How many of the n float32 values at p are NaN or infinite (all exponent bits set): one vectorised pass.
NN_API int64_t nn_count_nonfinite_f32(const void* p, size_t n);
// --- the restore's sequential pass ---
// Opens path for reading with O_DIRECT (no page cache is filled, so none must be dropped); -EINVAL where the file
// system refuses it, as it does when nn_refuse_direct(1) was called (tests of the fallback set that).
NN_API int nn_open_for_direct_read(const char* path);
NN_API void nn_refuse_direct(int refuse);
// Reads up to n bytes at `offset` into dst, retried on EINTR and short reads until n or end of file; returns the
// count (less than n only at end of file) or -errno. With O_DIRECT, dst, n and offset must be block aligned.
NN_API int64_t nn_pread_upto(int fd, void* dst, size_t n, int64_t offset);
// Copies n float32-sized words from src to dst and returns how many are NaN or infinite: the restore's copy out of
// its read buffer and its finite-value check in one pass over the bytes. n counts 4-byte words.
NN_API int64_t nn_copy_count_nonfinite_f32(void* dst, const void* src, size_t n);
// The text of any code a native function returned (-errno or a CUDA code, neuron_cuda.h); thread-safe.
// Valid in the calling thread until its next call.
NN_API const char* nn_strerror(int code);
