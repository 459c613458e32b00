// SHA-256 on libcrypto's EVP interface, the one way the project hashes: a
// digest is the same lower-case hex wherever it is stored or compared.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

struct evp_md_ctx_st;

namespace nsbuild::base {

// A running digest, for data that arrives in pieces (a file read in chunks).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Forgets what was given: the next digest starts from nothing.
  void Reset();
  void Update(std::string_view data);
  // The digest of everything given since construction or the last call;
  // the hasher then starts over.
  std::string HexDigest();

 private:
  evp_md_ctx_st* ctx_;
};

std::string Sha256Hex(std::string_view data);
// Reads fd to its end.
Result<std::string> Sha256Fd(int fd);

}  // namespace nsbuild::base
