// The seccomp cache (sandbox/seccomp_cache.h): what a start loads is byte for
// byte what libseccomp compiles for that rule set now, and an entry that is
// stale, foreign, loose, cut or extended is never loaded.
#include "sandbox/seccomp_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace nsbuild::sandbox {
namespace {

namespace fs = std::filesystem;

class SeccompCache : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "nsbuild-seccomp-cache.XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    top_ = t;
    dir_ = top_ + "/seccomp";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(top_, ec);
  }

  static FilterInput Input(const SeccompSpec& spec) {
    auto in = SeccompInput(spec);
    EXPECT_TRUE(in.ok()) << in.error().Message();
    return in.ok() ? *in : FilterInput{};
  }
  // What libseccomp compiles for `in` right now, without any cache.
  static std::vector<sock_filter> Fresh(const FilterInput& in) {
    auto prog = CompileFilter(in);
    EXPECT_TRUE(prog.ok()) << prog.error().Message();
    return prog.ok() ? *prog : std::vector<sock_filter>{};
  }
  std::vector<sock_filter> Cached(const FilterInput& in, CacheOutcome want) {
    CacheOutcome got = CacheOutcome::kHit;
    auto prog = CachedFilter(in, dir_, &got);
    EXPECT_TRUE(prog.ok()) << prog.error().Message();
    EXPECT_EQ(static_cast<int>(got), static_cast<int>(want));
    return prog.ok() ? *prog : std::vector<sock_filter>{};
  }
  std::string EntryPath(const FilterInput& in) const {
    return dir_ + "/" + FilterCacheName(FilterCacheKey(in));
  }
  static std::string Slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  static void Spit(const std::string& p, const std::string& data) {
    std::string tmp = p + ".new";
    std::ofstream(tmp, std::ios::binary) << data;
    ::chmod(tmp.c_str(), 0644);
    ASSERT_EQ(::rename(tmp.c_str(), p.c_str()), 0);
  }
  static bool Same(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
    return a.size() == b.size() &&
           std::memcmp(a.data(), b.data(), a.size() * sizeof(sock_filter)) == 0;
  }

  std::string top_, dir_;
};

std::vector<SeccompSpec> Specs() {
  SeccompSpec all;
  SeccompSpec tty{true, {"tty-inject"}, true};
  SeccompSpec loose_arch{true, {}, false};
  SeccompSpec listen{true, {"all"}, true, true};
  return {all, tty, loose_arch, listen};
}

TEST_F(SeccompCache, StoredThenLoadedProgramIsWhatLibseccompCompiles) {
  std::vector<FilterInput> inputs;
  for (const SeccompSpec& s : Specs()) inputs.push_back(Input(s));
  auto watch = WriteWatchInput();
  ASSERT_TRUE(watch.ok());
  inputs.push_back(*watch);
  for (const FilterInput& in : inputs) {
    std::vector<sock_filter> fresh = Fresh(in);
    ASSERT_FALSE(fresh.empty());
    EXPECT_TRUE(Same(Cached(in, CacheOutcome::kCompiledAndStored), fresh));
    EXPECT_TRUE(Same(Cached(in, CacheOutcome::kHit), fresh));
    // The entry ends with exactly those bytes.
    std::string entry = Slurp(EntryPath(in));
    size_t bytes = fresh.size() * sizeof(sock_filter);
    ASSERT_GT(entry.size(), bytes);
    EXPECT_EQ(std::memcmp(entry.data() + entry.size() - bytes, fresh.data(), bytes), 0);
  }
}

TEST_F(SeccompCache, EveryRuleSetHasItsOwnKeyNamingTheLibseccompThatCompiledIt) {
  std::vector<std::string> keys;
  for (const SeccompSpec& s : Specs()) keys.push_back(FilterCacheKey(Input(s)));
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(keys[i].rfind("libseccomp ", 0), 0u) << keys[i].substr(0, 80);
    EXPECT_NE(keys[i].find(" build-id "), std::string::npos);
    for (size_t j = i + 1; j < keys.size(); ++j) {
      EXPECT_NE(keys[i], keys[j]);
      EXPECT_NE(FilterCacheName(keys[i]), FilterCacheName(keys[j]));
    }
  }
}

TEST_F(SeccompCache, DisabledSeccompHasNoProgramAndNoEntry) {
  CacheOutcome got = CacheOutcome::kHit;
  auto prog = CachedFilter(Input(SeccompSpec{false, {}, true}), dir_, &got);
  ASSERT_TRUE(prog.ok());
  EXPECT_TRUE(prog->empty());
  EXPECT_EQ(got, CacheOutcome::kNoCache);
}

// Another rule set's entry put under this rule set's name (a hash collision,
// or a copy) has the other key inside: recompiled and replaced.
TEST_F(SeccompCache, AnotherRuleSetsEntryIsRecompiled) {
  FilterInput mine = Input(SeccompSpec{});
  FilterInput other = Input(SeccompSpec{true, {"tty-inject"}, true});
  Cached(other, CacheOutcome::kCompiledAndStored);
  Cached(mine, CacheOutcome::kCompiledAndStored);
  Spit(EntryPath(mine), Slurp(EntryPath(other)));
  EXPECT_TRUE(Same(Cached(mine, CacheOutcome::kCompiledAndStored), Fresh(mine)));
  EXPECT_TRUE(Same(Cached(mine, CacheOutcome::kHit), Fresh(mine)));
}

// An entry written by another libseccomp (here: its build id changed, same
// length) is stale: recompiled, never loaded.
TEST_F(SeccompCache, EntryOfAnotherLibseccompIsRecompiled) {
  FilterInput in = Input(SeccompSpec{});
  Cached(in, CacheOutcome::kCompiledAndStored);
  std::string entry = Slurp(EntryPath(in));
  size_t at = entry.find(" build-id ");
  ASSERT_NE(at, std::string::npos);
  char& c = entry[at + std::strlen(" build-id ")];
  c = c == '0' ? '1' : '0';
  Spit(EntryPath(in), entry);
  EXPECT_TRUE(Same(Cached(in, CacheOutcome::kCompiledAndStored), Fresh(in)));
}

TEST_F(SeccompCache, CutOrExtendedEntryIsRecompiled) {
  FilterInput in = Input(SeccompSpec{});
  Cached(in, CacheOutcome::kCompiledAndStored);
  std::string entry = Slurp(EntryPath(in));
  for (std::string bad : {entry.substr(0, entry.size() - sizeof(sock_filter)),
                          entry + std::string(sizeof(sock_filter), '\0'), entry.substr(0, 20)}) {
    Spit(EntryPath(in), bad);
    EXPECT_TRUE(Same(Cached(in, CacheOutcome::kCompiledAndStored), Fresh(in)));
  }
}

// What protects an entry is who can write it. Ours, 0644: used as it is
// (the test doctors one instruction to see that it really is read) ...
TEST_F(SeccompCache, TrustedEntryIsLoadedAsIs) {
  FilterInput in = Input(SeccompSpec{});
  Cached(in, CacheOutcome::kCompiledAndStored);
  std::string entry = Slurp(EntryPath(in));
  entry[entry.size() - 1] ^= 0x01;
  Spit(EntryPath(in), entry);
  EXPECT_FALSE(Same(Cached(in, CacheOutcome::kHit), Fresh(in)));
}

// ... writable by others, or owned by another user: never loaded.
TEST_F(SeccompCache, LooseOrForeignEntryIsNeverLoaded) {
  FilterInput in = Input(SeccompSpec{});
  Cached(in, CacheOutcome::kCompiledAndStored);
  std::string doctored = Slurp(EntryPath(in));
  doctored[doctored.size() - 1] ^= 0x01;
  Spit(EntryPath(in), doctored);
  ASSERT_EQ(::chmod(EntryPath(in).c_str(), 0666), 0);
  EXPECT_TRUE(Same(Cached(in, CacheOutcome::kCompiledAndStored), Fresh(in)));
  if (::geteuid() != 0) return;  // making another user's file needs root
  Spit(EntryPath(in), doctored);
  ASSERT_EQ(::chown(EntryPath(in).c_str(), 12345, 12345), 0);
  EXPECT_TRUE(Same(Cached(in, CacheOutcome::kCompiledAndStored), Fresh(in)));
  struct stat st;
  ASSERT_EQ(::stat(EntryPath(in).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());  // replaced by ours
}

// A cache directory others could write is not used at all (nothing is
// stored there either).
TEST_F(SeccompCache, LooseDirectoryIsNotUsed) {
  FilterInput in = Input(SeccompSpec{});
  Cached(in, CacheOutcome::kCompiledAndStored);
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  std::string entry = Slurp(EntryPath(in));
  entry[entry.size() - 1] ^= 0x01;
  Spit(EntryPath(in), entry);
  EXPECT_TRUE(Same(Cached(in, CacheOutcome::kNoCache), Fresh(in)));
  EXPECT_EQ(Slurp(EntryPath(in)), entry);
}

// A store keeps the cache small: what another libseccomp compiled goes (no
// start can hit it again), so do a killed start's old temporaries, and
// beyond the maximum the oldest entries; the one just written stays.
TEST_F(SeccompCache, AStoreRemovesWhatCanNeverBeHitAndKeepsTheNewestEntries) {
  FilterInput first = Input(SeccompSpec{});
  Cached(first, CacheOutcome::kCompiledAndStored);  // creates the directory
  std::string entry = Slurp(EntryPath(first));
  std::string key = FilterCacheKey(first);
  std::string identity = key.substr(0, key.find(" build-id ") + std::strlen(" build-id "));
  ASSERT_EQ(entry.find(identity), entry.find('\n') + 1);
  // Plausible entries of this libseccomp (only their first bytes are read),
  // written an hour apart, oldest first.
  auto make = [&](const std::string& name, const std::string& data, time_t age) {
    Spit(dir_ + "/" + name, data);
    timespec t[2] = {{::time(nullptr) - age, 0}, {::time(nullptr) - age, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (dir_ + "/" + name).c_str(), t, 0), 0);
  };
  size_t n = kSeccompCacheMaxEntries + 3;
  for (size_t i = 0; i < n; ++i) {
    make("fake" + std::to_string(i) + ".bpf", entry, static_cast<time_t>((n - i) * 3600));
  }
  std::string other = entry;
  other[entry.find(identity) + identity.size()] ^= 1;  // another build id
  make("other.bpf", other, 60);
  make("old.bpf.1.tmp", "half", 7200);
  make("new.bpf.2.tmp", "half", 0);
  FilterInput second = Input(SeccompSpec{true, {"tty-inject"}, true});
  Cached(second, CacheOutcome::kCompiledAndStored);
  EXPECT_TRUE(fs::exists(EntryPath(second)));
  EXPECT_FALSE(fs::exists(dir_ + "/other.bpf"));
  EXPECT_FALSE(fs::exists(dir_ + "/old.bpf.1.tmp"));
  EXPECT_TRUE(fs::exists(dir_ + "/new.bpf.2.tmp"));  // maybe a start writing it now
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) entries += e.path().extension() == ".bpf";
  EXPECT_EQ(entries, kSeccompCacheMaxEntries);
  EXPECT_FALSE(fs::exists(dir_ + "/fake0.bpf"));  // the oldest went
  EXPECT_TRUE(fs::exists(dir_ + "/fake" + std::to_string(n - 1) + ".bpf"));
  // The entry of the first rule set (written just now, before the fakes'
  // ages) is among the newest and is still hit.
  EXPECT_TRUE(Same(Cached(first, CacheOutcome::kHit), Fresh(first)));
}

}  // namespace
}  // namespace nsbuild::sandbox
