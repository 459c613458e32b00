// SHA-256 through OpenSSL's libcrypto, which nsbuild loads only when it
// first hashes. Loading libcrypto.so (bound at start like everything else:
// Debian builds it BIND_NOW) was the largest part of nsbuild's own start:
// over 3,000 of its 5,600 symbol bindings, for every `nsbuild run` and every
// other command that never hashes. Linked statically (-DNSBUILD_STATIC=ON),
// libcrypto is part of the binary and called directly.
#pragma once

#include <cstddef>
#include <string>

namespace nsbuild::merge {

// One running digest. Not copyable; the context is freed with it.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Reset();
  void Update(const void* data, size_t n);
  // Lower-case hex of the digest; Reset() before the next use.
  std::string FinalHex();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace nsbuild::merge
