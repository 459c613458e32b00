// builder/policy_file.h: whose policy a build runs under (the operator's;
// a recipe may only name an installed policy that declares itself stricter)
// and where names are looked up.
#include "builder/policy_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace nsbuild::builder {
namespace {

namespace fs = std::filesystem;

class PolicyChoice : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "nsbuild-policy.XXXXXX").string();
    dir_ = ::mkdtemp(t.data());
    ::chmod(dir_.c_str(), 0755);
    std::string sandbox = R"("sandbox": {"filesystem": {"ro_bind": ["/usr"]}})";
    std::ofstream(dir_ + "/weak.json") << "{" << sandbox << "}";
    std::ofstream(dir_ + "/tight.json") << R"({"stricter_than": ["default"], )" << sandbox << "}";
    std::ofstream(dir_ + "/bad.json") << R"({"stricter_than": "default", )" << sandbox << "}";
    const char* old = std::getenv("NSBUILD_POLICY_PATH");
    old_ = old ? old : "";
    had_ = old != nullptr;
    ::setenv("NSBUILD_POLICY_PATH", dir_.c_str(), 1);
  }
  void TearDown() override {
    if (had_) {
      ::setenv("NSBUILD_POLICY_PATH", old_.c_str(), 1);
    } else {
      ::unsetenv("NSBUILD_POLICY_PATH");
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_, old_;
  bool had_ = false;
};

TEST_F(PolicyChoice, TheOperatorsPolicyWins) {
  EXPECT_EQ(*ChoosePolicy("weak", "tight", "r.json"), "weak");
  EXPECT_EQ(*ChoosePolicy("/etc/x.json", "tight", "r.json"), "/etc/x.json");
  EXPECT_EQ(*ChoosePolicy("", "", "r.json"), "default");
  EXPECT_EQ(*ChoosePolicy("", "default", "r.json"), "default");
}

TEST_F(PolicyChoice, ARecipeMayOnlyTighten) {
  auto tight = ChoosePolicy("", "tight", "r.json");
  ASSERT_TRUE(tight.ok()) << tight.error().Message();
  EXPECT_EQ(*tight, "tight");
  auto weak = ChoosePolicy("", "weak", "r.json");
  ASSERT_FALSE(weak.ok());
  EXPECT_NE(weak.error().Message().find("r.json: $.policy: asks for policy 'weak'"),
            std::string::npos)
      << weak.error().Message();
  EXPECT_NE(weak.error().Message().find("--policy weak"), std::string::npos);
  auto missing = ChoosePolicy("", "nonesuch", "r.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().Message().find("not found"), std::string::npos);
  auto bad = ChoosePolicy("", "bad", "r.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().Message().find("$.stricter_than"), std::string::npos)
      << bad.error().Message();
}

TEST_F(PolicyChoice, NamesAreNeverPaths) {
  EXPECT_FALSE(LoadInstalledPolicy("../weak").ok());
  EXPECT_FALSE(LoadInstalledPolicy(dir_ + "/weak").ok());
  EXPECT_FALSE(LoadInstalledPolicy(".hidden").ok());
  EXPECT_TRUE(LoadInstalledPolicy("weak").ok());
}

TEST_F(PolicyChoice, TheBundledStrictDeclaresItselfStricter) {
  ::setenv("NSBUILD_POLICY_PATH", (std::string(NSBUILD_SOURCE_DIR) + "/policies").c_str(), 1);
  auto strict = ChoosePolicy("", "strict", "r.json");
  ASSERT_TRUE(strict.ok()) << strict.error().Message();
  EXPECT_EQ(*strict, "strict");
}

// Objects nothing reads are refused rather than ignored: a "distcc" object
// would look like it set the daemons.
TEST_F(PolicyChoice, TopLevelKeysNobodyReadsAreRefused) {
  std::string sandbox = R"("sandbox": {"filesystem": {"ro_bind": ["/usr"]}})";
  std::ofstream(dir_ + "/distcc.json") << R"({"distcc": {"hosts": "h"}, )" << sandbox << "}";
  std::ofstream(dir_ + "/verify.json") << R"({"verify": {}, )" << sandbox << "}";
  std::ofstream(dir_ + "/typo.json") << R"({"wrtes": {}, )" << sandbox << "}";
  auto distcc = LoadPolicyDocument(dir_ + "/distcc.json");
  ASSERT_FALSE(distcc.ok());
  EXPECT_EQ(distcc.error().Message(), dir_ + "/distcc.json: $.distcc: unknown key");
  auto verify = LoadPolicyDocument(dir_ + "/verify.json");
  ASSERT_FALSE(verify.ok());
  EXPECT_EQ(verify.error().Message(), dir_ + "/verify.json: $.verify: unknown key");
  auto typo = LoadPolicyDocument(dir_ + "/typo.json");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().Message(),
            dir_ + "/typo.json: $.wrtes: unknown key (did you mean 'writes'?)");
}

TEST_F(PolicyChoice, AWorldWritableDirectoryIsNotSearched) {
  ::chmod(dir_.c_str(), 0777);
  for (const auto& d : PolicySearchDirs()) EXPECT_NE(d, dir_);
  EXPECT_FALSE(LoadInstalledPolicy("tight").ok());
  ::chmod(dir_.c_str(), 0755);
}

}  // namespace
}  // namespace nsbuild::builder
