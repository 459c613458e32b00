#include "base/sha256.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#ifdef NSBUILD_LIBCRYPTO_SONAME
#include <dlfcn.h>
#endif

namespace nsbuild::base {
namespace {

// The few libcrypto functions nsbuild uses, typed from OpenSSL's own header.
// libcrypto is loaded on the first hash, not at start: bound at start (Debian
// builds it BIND_NOW) it was over 3,000 of the 5,600 symbol bindings of every
// `nsbuild run`, which never hashes. Linked statically (-DNSBUILD_STATIC=ON)
// it is part of the binary and called directly.
struct Api {
  decltype(&::EVP_MD_CTX_new) ctx_new;
  decltype(&::EVP_MD_CTX_free) ctx_free;
  decltype(&::EVP_sha256) sha256;
  decltype(&::EVP_DigestInit_ex) init;
  decltype(&::EVP_DigestUpdate) update;
  decltype(&::EVP_DigestFinal_ex) final;
};

#ifdef NSBUILD_LIBCRYPTO_SONAME
template <typename F>
void Bind(void* lib, const char* name, F* out) {
  *out = reinterpret_cast<F>(::dlsym(lib, name));
  if (!*out) {
    std::fprintf(stderr, "nsbuild: %s has no %s\n", NSBUILD_LIBCRYPTO_SONAME, name);
    std::abort();
  }
}

// A missing libcrypto is a broken installation (the package depends on it),
// the same fault as the dynamic loader refusing to start nsbuild: said, and
// fatal.
Api Load() {
  void* lib = ::dlopen(NSBUILD_LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "nsbuild: cannot load %s: %s\n", NSBUILD_LIBCRYPTO_SONAME, ::dlerror());
    std::abort();
  }
  Api a;
  Bind(lib, "EVP_MD_CTX_new", &a.ctx_new);
  Bind(lib, "EVP_MD_CTX_free", &a.ctx_free);
  Bind(lib, "EVP_sha256", &a.sha256);
  Bind(lib, "EVP_DigestInit_ex", &a.init);
  Bind(lib, "EVP_DigestUpdate", &a.update);
  Bind(lib, "EVP_DigestFinal_ex", &a.final);
  return a;  // the library stays loaded for the life of the process
}
#else
Api Load() {
  return Api{&::EVP_MD_CTX_new,    &::EVP_MD_CTX_free,  &::EVP_sha256,
             &::EVP_DigestInit_ex, &::EVP_DigestUpdate, &::EVP_DigestFinal_ex};
}
#endif

// Loaded once, on first use, by whichever thread hashes first.
const Api& Crypto() {
  static const Api api = Load();
  return api;
}

std::string Hex(const unsigned char* d, unsigned n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (unsigned i = 0; i < n; ++i) {
    s.push_back(kDigits[d[i] >> 4]);
    s.push_back(kDigits[d[i] & 15]);
  }
  return s;
}

}  // namespace

// EVP fails only without memory or a digest libcrypto always has; a digest
// that silently came out wrong would be worse than stopping.
Sha256::Sha256() : ctx_(Crypto().ctx_new()) {
  if (!ctx_) std::abort();
  Reset();
}

Sha256::~Sha256() { Crypto().ctx_free(ctx_); }

void Sha256::Reset() {
  if (Crypto().init(ctx_, Crypto().sha256(), nullptr) != 1) std::abort();
}

void Sha256::Update(std::string_view data) {
  if (Crypto().update(ctx_, data.data(), data.size()) != 1) std::abort();
}

std::string Sha256::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (Crypto().final(ctx_, md, &n) != 1) std::abort();
  Reset();
  return Hex(md, n);
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.HexDigest();
}

Result<std::string> Sha256Fd(int fd) {
  Sha256 h;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read for sha256");
    if (n == 0) break;
    h.Update(std::string_view(buf, static_cast<size_t>(n)));
  }
  return h.HexDigest();
}

}  // namespace nsbuild::base
