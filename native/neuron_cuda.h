// neuron engine native library, CUDA staging: the device-to-host half of a snapshot.
//
// A snapshot of CUDA tensors is copied into the memory-mapped staging file on a side stream, so the loop's
// stream keeps computing while the bytes cross PCIe; the next mutation of the state waits on an event, not
// the host. Built with CMake -DNEURON_CUDA=ON; without it every function returns -ENOSYS. The CUDA runtime is
// the one already in the process (LibTorch's libcudart.so.13), opened on first use, so the library loads
// and its CPU functions work on a machine with no CUDA at all.
//
// Every function returns 0 (or 1 where it says so) on success and a negative code on failure: -errno, or
// -(NN_CUDA_ERROR_BASE + cudaError_t). nn_strerror (neuron_native.h) gives the text of any code. A failure
// leaves no CUDA error pending on the thread (LibTorch's next launch check would take it for its own).
#pragma once
#include "neuron_native.h"

#define NN_CUDA_ERROR_BASE 10000

// 1 when built with CUDA and a device is visible; 0 when built with CUDA but there is no device or driver;
// a negative code otherwise (-ENOSYS without CUDA, -ELIBACC when the CUDA runtime cannot be opened).
NN_API int nn_cuda_available();

// Page-locks [addr, addr+n) for the device (cudaHostRegister, portable to every device), so copies into
// it run at full PCIe speed and truly asynchronously. For a staging mapping: call once per mapping, before
// the copies, never in the pause (it pins every page: a fraction of a second per GB). A failure (the
// driver's pinned-memory limits, pages a full tmpfs cannot back, file systems that forbid long-term pins)
// leaves the range pageable: copies into it still work, at pageable speed, and synchronous to the host.
NN_API int nn_cuda_host_register(void* addr, size_t n);
NN_API int nn_cuda_host_unregister(void* addr);

// A stager: one non-blocking side stream and two events, on the device current at creation. Its
// functions may be called from any thread (the device is set for the call and restored after), one
// snapshot at a time:
//   begin(producer)  side stream waits for all work queued so far on the producer stream (the loop's
//                    stream; NULL is the legacy default stream): the copy sees the state after the step
//   copy(dst, src)   queues a copy of n bytes (device or host src, host dst) on the side stream
//   end()            records the done event after the copies queued so far
//   wait()           the calling thread blocks (without spinning) until done: the bytes are in dst
//   order(consumer)  the consumer stream's later work waits for done, without a host wait: the next
//                    optimizer step may be queued at once and runs after the copy has read the state
NN_API int nn_cuda_stager_create(void** out);
NN_API int nn_cuda_stager_begin(void* s, void* producer_stream);
NN_API int nn_cuda_stager_copy(void* s, void* dst, const void* src, size_t n);
NN_API int nn_cuda_stager_end(void* s);
NN_API int nn_cuda_stager_wait(void* s);
NN_API int nn_cuda_stager_order(void* s, void* consumer_stream);
// Waits for the side stream's work, then frees the stream and events. NULL is ignored.
NN_API void nn_cuda_stager_destroy(void* s);

// Inside the library, for nn_strerror: the text of a cudaError_t (the runtime's name and message when it
// could be opened) into buf.
extern "C" void nn_cuda_error_text(int cuda_error, char* buf, size_t n);
