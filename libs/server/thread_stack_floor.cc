// A floor under the stack size libraries ask for their threads.
//
// CivetWeb (prometheus-cpp's HTTP server, behind every /metrics endpoint) starts its threads with
// a fixed ~100 KiB stack. glibc places the static TLS of every loaded library at the top of each
// thread's stack and refuses (EINVAL) a stack smaller than it; in a binary that links LibTorch
// with OpenBLAS the static TLS alone is ~108 KiB (OpenBLAS 60, glog 30, LibTorch 10), so the
// metrics server failed to start ("null context when constructing CivetServer"). The service
// binaries export this definition, which CivetWeb's call binds to ahead of glibc's: it raises
// any request below kFloor to it, then calls glibc's.

#include <dlfcn.h>
#include <pthread.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>

namespace {
constexpr size_t kFloor = 1 << 20;  // 1 MiB: room for the TLS and the thread's own frames.
using SetStackSize = int (*)(pthread_attr_t*, size_t);
}  // namespace

extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  static const SetStackSize real =
      reinterpret_cast<SetStackSize>(dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  if (real == nullptr) {  // A static program, say: there is no next definition to call.
    std::fputs("fabrique: cannot find glibc's pthread_attr_setstacksize\n", stderr);
    std::abort();
  }
  return real(attr, std::max(size, kFloor));
}

namespace fabrique::server {
// Referenced by ServiceMain so that the linker keeps this file in every service binary.
extern const bool kThreadStackFloorLinked = true;
}  // namespace fabrique::server
