// Compiled seccomp programs, kept on disk so a sandbox start loads bytes
// instead of running libseccomp's compiler (about a millisecond, most of
// nsbuild's own user time per start).
//
// An entry is found by a hash of its key and used only when the key stored
// in it is byte for byte the key wanted. The key is the whole input given to
// libseccomp (seccomp_rules.h FilterInput: every rule in order with its
// resolved number and action, the attributes) plus the identity of the
// libseccomp that compiles it (version and the GNU build id of the object
// holding it), so a changed rule set, a libseccomp update or a rebuild
// compiles afresh and replaces the entry. Given the same input, libseccomp's
// compiler is deterministic, so a hit is byte-identical to what it would
// compile now (tests/unit/seccomp_cache_test.cc checks it).
//
// Whose cache is trusted: the directory is opened from "/" with every
// component checked (base::OpenTrustedDir: owned by root or the caller, not
// writable by group or others), and an entry must be a regular file owned by
// root or the caller with the same mode rule. Root therefore only uses
// entries root wrote in a directory only root can write. Anything else (a
// foreign or loose entry, a wrong key, a short or odd-sized file) is
// recompiled and rewritten. The cache is a speed-up only: when it cannot be
// opened or written, the program is compiled as before.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/seccomp_rules.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

// Entries kept at most: each rule set (a policy, its variations) of the
// libseccomp in use. A store removes the oldest beyond it, and every entry
// another libseccomp compiled (after an update none can be hit again).
constexpr size_t kSeccompCacheMaxEntries = 64;

// $NSBUILD_CACHE_DIR/seccomp when set; else /var/cache/nsbuild/seccomp for
// root, $XDG_CACHE_HOME/nsbuild/seccomp or $HOME/.cache/nsbuild/seccomp for
// a user; "" (no cache) when none of these can be named.
std::string DefaultSeccompCacheDir();

// What was done to produce a program, for tests and --dry-run.
enum class CacheOutcome { kNoCache, kHit, kCompiledAndStored, kCompiledNotStored };

// The program for `in`: from the cache at `dir` when it holds a trusted
// entry with this very key, else compiled (and stored, best effort).
// `dir` "" compiles without a cache.
base::Result<std::vector<sock_filter>> CachedFilter(const FilterInput& in, const std::string& dir,
                                                    CacheOutcome* outcome = nullptr);

// The key of `in`: FilterInputText plus the compiling libseccomp's identity.
std::string FilterCacheKey(const FilterInput& in);
// The entry's file name in the cache directory for a key.
std::string FilterCacheName(const std::string& key);

}  // namespace nsbuild::sandbox
