#include "neuron_cuda.h"

#include <errno.h>
#include <stdio.h>

#ifndef NEURON_WITH_CUDA

// Built without CUDA: the same functions, each saying so.
int nn_cuda_available() { return -ENOSYS; }
int nn_cuda_host_register(void*, size_t) { return -ENOSYS; }
int nn_cuda_host_unregister(void*) { return -ENOSYS; }
int nn_cuda_stager_create(void** out) {
    if (out) *out = nullptr;
    return -ENOSYS;
}
int nn_cuda_stager_begin(void*, void*) { return -ENOSYS; }
int nn_cuda_stager_copy(void*, void*, const void*, size_t) { return -ENOSYS; }
int nn_cuda_stager_end(void*) { return -ENOSYS; }
int nn_cuda_stager_wait(void*) { return -ENOSYS; }
int nn_cuda_stager_order(void*, void*) { return -ENOSYS; }
void nn_cuda_stager_destroy(void*) {}
void nn_cuda_error_text(int cuda_error, char* buf, size_t n) {
    snprintf(buf, n, "CUDA error %d (this build has no CUDA)", cuda_error);
}

#else

#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <pthread.h>

#include <atomic>
#include <new>

namespace {

// The runtime functions the stager uses, looked up in the libcudart already in the process (LibTorch's)
// or the one the dynamic linker finds: one runtime per process, so LibTorch's streams are valid here.
#define NN_CUDART_FUNCTIONS(X)                                                                          \
    X(cudaGetDeviceCount) X(cudaGetDevice) X(cudaSetDevice) X(cudaHostRegister) X(cudaHostUnregister)  \
    X(cudaStreamCreateWithFlags) X(cudaStreamDestroy) X(cudaStreamSynchronize) X(cudaStreamWaitEvent)  \
    X(cudaEventCreateWithFlags) X(cudaEventDestroy) X(cudaEventRecord) X(cudaEventSynchronize)         \
    X(cudaMemcpyAsync) X(cudaGetLastError) X(cudaGetErrorName) X(cudaGetErrorString)

struct Runtime {
#define NN_FIELD(name) decltype(&::name) name;
    NN_CUDART_FUNCTIONS(NN_FIELD)
#undef NN_FIELD
};

Runtime runtime_table;
std::atomic<const Runtime*> runtime_loaded{nullptr};
pthread_mutex_t runtime_lock = PTHREAD_MUTEX_INITIALIZER;

// The major version the headers were built for: a 13.x runtime serves any 13.y build.
struct Soname {
    char text[32];
    Soname() { snprintf(text, sizeof text, "libcudart.so.%d", CUDART_VERSION / 1000); }
};
const Soname cudart_soname;

// nullptr when no CUDA runtime can be opened; a failure is retried on the next call (LibTorch may
// load its runtime later), a success is kept for the process's life.
const Runtime* runtime() {
    const Runtime* rt = runtime_loaded.load(std::memory_order_acquire);
    if (rt) return rt;
    pthread_mutex_lock(&runtime_lock);
    rt = runtime_loaded.load(std::memory_order_relaxed);
    if (!rt) {
        void* lib = dlopen(cudart_soname.text, RTLD_NOW | RTLD_LOCAL);
        bool complete = lib != nullptr;
#define NN_RESOLVE(name)                                                                      \
        if (complete) {                                                                       \
            runtime_table.name = reinterpret_cast<decltype(&::name)>(dlsym(lib, #name));      \
            complete = runtime_table.name != nullptr;                                         \
        }
        NN_CUDART_FUNCTIONS(NN_RESOLVE)
#undef NN_RESOLVE
        if (complete) {
            rt = &runtime_table;
            runtime_loaded.store(rt, std::memory_order_release);
        } else if (lib) {
            dlclose(lib);
        }
    }
    pthread_mutex_unlock(&runtime_lock);
    return rt;
}

// A failed call also leaves the error pending on the calling thread, where LibTorch's next kernel-launch
// check would report it as its own: it is taken off here, and returned.
int code(const Runtime* rt, cudaError_t e) {
    if (e == cudaSuccess) return 0;
    rt->cudaGetLastError();
    return -(NN_CUDA_ERROR_BASE + int(e));
}

struct Stager {
    int device;
    cudaStream_t side;
    cudaEvent_t ready;   // recorded on the producer at begin
    cudaEvent_t done;    // recorded on the side stream at end; waits block the host thread, not spin
};

// Makes the stager's device current for one call and restores the caller's, so a copier thread needs
// no set-up and the loop thread's current device never changes under it.
class OnDevice {
public:
    OnDevice(const Runtime* rt, int device) : rt_(rt) {
        int current = 0;
        status_ = code(rt, rt->cudaGetDevice(&current));
        if (status_ == 0 && current != device) {
            status_ = code(rt, rt->cudaSetDevice(device));
            if (status_ == 0) previous_ = current;
        }
    }
    ~OnDevice() {
        if (previous_ >= 0) rt_->cudaSetDevice(previous_);
    }
    int status() const { return status_; }

private:
    const Runtime* rt_;
    int previous_ = -1;
    int status_ = 0;
};

// One stager operation (a lambda returning cudaError_t) on the stager's device.
template <typename Operation>
int on_stager(void* stager, Operation operation) {
    if (!stager) return -EINVAL;
    const Runtime* rt = runtime();
    if (!rt) return -ELIBACC;
    Stager* s = static_cast<Stager*>(stager);
    OnDevice on(rt, s->device);
    return on.status() != 0 ? on.status() : code(rt, operation(rt, s));
}

}  // namespace

int nn_cuda_available() {
    const Runtime* rt = runtime();
    if (!rt) return -ELIBACC;
    int count = 0;
    int rc = code(rt, rt->cudaGetDeviceCount(&count));
    if (rc != 0) return rc;
    return count > 0 ? 1 : 0;
}

int nn_cuda_host_register(void* addr, size_t n) {
    if (!addr || n == 0) return -EINVAL;
    const Runtime* rt = runtime();
    if (!rt) return -ELIBACC;
    return code(rt, rt->cudaHostRegister(addr, n, cudaHostRegisterPortable));
}

int nn_cuda_host_unregister(void* addr) {
    if (!addr) return -EINVAL;
    const Runtime* rt = runtime();
    if (!rt) return -ELIBACC;
    return code(rt, rt->cudaHostUnregister(addr));
}

int nn_cuda_stager_create(void** out) {
    if (!out) return -EINVAL;
    *out = nullptr;
    const Runtime* rt = runtime();
    if (!rt) return -ELIBACC;
    Stager* s = new (std::nothrow) Stager{0, nullptr, nullptr, nullptr};
    if (!s) return -ENOMEM;
    int rc = code(rt, rt->cudaGetDevice(&s->device));
    if (rc == 0) rc = code(rt, rt->cudaStreamCreateWithFlags(&s->side, cudaStreamNonBlocking));
    if (rc == 0) rc = code(rt, rt->cudaEventCreateWithFlags(&s->ready, cudaEventDisableTiming));
    if (rc == 0) rc = code(rt, rt->cudaEventCreateWithFlags(&s->done, cudaEventDisableTiming | cudaEventBlockingSync));
    if (rc != 0) {
        nn_cuda_stager_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

int nn_cuda_stager_begin(void* stager, void* producer_stream) {
    return on_stager(stager, [=](const Runtime* rt, Stager* s) {
        cudaError_t e = rt->cudaEventRecord(s->ready, static_cast<cudaStream_t>(producer_stream));
        return e != cudaSuccess ? e : rt->cudaStreamWaitEvent(s->side, s->ready, 0);
    });
}

int nn_cuda_stager_copy(void* stager, void* dst, const void* src, size_t n) {
    if (n == 0) return stager ? 0 : -EINVAL;
    if (!dst || !src) return -EINVAL;
    // cudaMemcpyDefault: the pointers say where the bytes are (unified addressing), so a CPU-resident
    // tensor of a CUDA model is copied too. Into pageable memory the call returns once the bytes are there.
    return on_stager(stager, [=](const Runtime* rt, Stager* s) {
        return rt->cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, s->side);
    });
}

int nn_cuda_stager_end(void* stager) {
    return on_stager(stager, [](const Runtime* rt, Stager* s) { return rt->cudaEventRecord(s->done, s->side); });
}

int nn_cuda_stager_wait(void* stager) {
    return on_stager(stager, [](const Runtime* rt, Stager* s) { return rt->cudaEventSynchronize(s->done); });
}

int nn_cuda_stager_order(void* stager, void* consumer_stream) {
    return on_stager(stager, [=](const Runtime* rt, Stager* s) {
        return rt->cudaStreamWaitEvent(static_cast<cudaStream_t>(consumer_stream), s->done, 0);
    });
}

void nn_cuda_stager_destroy(void* stager) {
    const Runtime* rt = runtime();
    if (!stager || !rt) return;
    Stager* s = static_cast<Stager*>(stager);
    {
        OnDevice on(rt, s->device);
        // Copies still queued would write into staging memory the caller may unmap next.
        if (s->side) rt->cudaStreamSynchronize(s->side);
        if (s->done) rt->cudaEventDestroy(s->done);
        if (s->ready) rt->cudaEventDestroy(s->ready);
        if (s->side) rt->cudaStreamDestroy(s->side);
    }
    delete s;
}

void nn_cuda_error_text(int cuda_error, char* buf, size_t n) {
    const Runtime* rt = runtime();
    if (!rt) {
        snprintf(buf, n, "CUDA error %d (no CUDA runtime %s could be opened)", cuda_error, cudart_soname.text);
        return;
    }
    cudaError_t e = static_cast<cudaError_t>(cuda_error);
    // The runtime's strings are static and immutable: safe from any thread.
    snprintf(buf, n, "%s (CUDA error %d): %s", rt->cudaGetErrorName(e), cuda_error, rt->cudaGetErrorString(e));
}

#endif
