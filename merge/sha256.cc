#include "merge/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#ifdef NSBUILD_LIBCRYPTO_SONAME
#include <dlfcn.h>
#endif

namespace nsbuild::merge {
namespace {

// The few libcrypto functions nsbuild uses, typed from OpenSSL's own header.
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

EVP_MD_CTX* Ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

}  // namespace

Sha256::Sha256() : ctx_(Crypto().ctx_new()) { Reset(); }

Sha256::~Sha256() { Crypto().ctx_free(Ctx(ctx_)); }

void Sha256::Reset() { Crypto().init(Ctx(ctx_), Crypto().sha256(), nullptr); }

void Sha256::Update(const void* data, size_t n) { Crypto().update(Ctx(ctx_), data, n); }

std::string Sha256::FinalHex() {
  static const char kDigits[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  Crypto().final(Ctx(ctx_), md, &n);
  std::string s;
  s.reserve(n * 2);
  for (unsigned i = 0; i < n; ++i) {
    s.push_back(kDigits[md[i] >> 4]);
    s.push_back(kDigits[md[i] & 15]);
  }
  return s;
}

}  // namespace nsbuild::merge
