// builder/source.h: the recipe's source copied into the work dir, owned by
// the ids the sandboxes map to.
#include "builder/source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "builder/workdir.h"
#include "sandbox/distcc_hosts.h"
#include "sandbox/user_ns.h"

namespace nsbuild::builder {
namespace {

namespace fs = std::filesystem;

class Source : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/source_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    top_ = tmpl;
    ::chmod(top_.c_str(), 0755);
    fs::create_directories(top_ + "/src/pkg-1.0");
    std::ofstream(top_ + "/src/pkg-1.0/setup.py") << "# fixture\n";
    auto w = WorkDir::Prepare(top_ + "/w");
    ASSERT_TRUE(w.ok()) << w.error().Message();
    work_ = std::move(w).value();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(top_, ec);
  }

  base::Result<PreparedSource> Prepare(const sandbox::Policy& policy) {
    base::UniqueFd top(::open(top_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    NSB_ASSIGN_OR_RETURN(SourceRef src, OpenSourceBeneath(top.get(), "src", "src"));
    return PrepareSource(src, work_, policy);
  }

  std::string top_;
  WorkDir work_;
};

// A policy whose network is distcc without daemons is complete only with
// --distcc, which reaches the build's sandboxes, not the source copy: the
// copy needs the policy's ids, and those do not depend on the network.
TEST_F(Source, CopyUnderADistccPolicyWithoutDaemons) {
  sandbox::Policy policy;
  policy.net = sandbox::NetMode::kDistcc;
  ASSERT_TRUE(policy.distcc_hosts.empty());
  auto prepared = Prepare(policy);
  ASSERT_TRUE(prepared.ok()) << prepared.error().Message();
  EXPECT_EQ(prepared->root, work_.source_dir() + "/pkg-1.0");
  struct stat st;
  ASSERT_EQ(::stat((prepared->root + "/setup.py").c_str(), &st), 0);
  auto ids = sandbox::PolicyIdMapping(policy);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(st.st_uid, ids->CommandHostUid());
  EXPECT_EQ(st.st_gid, ids->CommandHostGid());
}

}  // namespace
}  // namespace nsbuild::builder
