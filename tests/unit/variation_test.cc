// What verify's fileordering and time factors do to a build, without
// running one: the request a sub-phase gets, and when they are skipped.
#include "verify/variation.h"

#include <gtest/gtest.h>

#include "verify/disorder_view.h"

namespace nsbuild::verify {
namespace {

std::string EnvOf(const sandbox::RunRequest& req, const std::string& key) {
  for (const auto& [k, v] : req.setenv) {
    if (k == key) return v;
  }
  return "(unset)";
}

sandbox::RunRequest Request() {
  sandbox::RunRequest req;
  req.setenv = {{"PATH", "/usr/bin:/bin"}, {"HOME", "/nsbuild/home"}};
  return req;
}

TEST(Variation, TimePreloadsLibfaketimeWithAWallClockOffsetOnly) {
  if (LibFaketimePath().empty()) GTEST_SKIP() << Unavailable("time");
  EXPECT_EQ(Unavailable("time"), "");
  auto req = Request();
  ApplyVariation(VaryFactors({"time"}), req);
  EXPECT_EQ(EnvOf(req, "LD_PRELOAD"), LibFaketimePath());
  EXPECT_EQ(EnvOf(req, "FAKETIME"), "+397d");
  EXPECT_EQ(EnvOf(req, "FAKETIME_DONT_FAKE_MONOTONIC"), "1");
  EXPECT_EQ(EnvOf(req, "NO_FAKE_STAT"), "1");
}

TEST(Variation, TimeKeepsAPreloadTheBuildAlreadyHas) {
  if (LibFaketimePath().empty()) GTEST_SKIP() << Unavailable("time");
  auto req = Request();
  req.setenv.emplace_back("LD_PRELOAD", "/usr/lib/libmine.so");
  ApplyVariation(VaryFactors({"time"}), req);
  EXPECT_EQ(EnvOf(req, "LD_PRELOAD"), LibFaketimePath() + ":/usr/lib/libmine.so");
}

TEST(Variation, TheControlHasRealTimeAndTheSourceAsItIs) {
  auto req = Request();
  ApplyVariation(ControlVariation(), req);
  EXPECT_EQ(EnvOf(req, "LD_PRELOAD"), "(unset)");
  EXPECT_EQ(EnvOf(req, "FAKETIME"), "(unset)");
  EXPECT_FALSE(ControlVariation().disorder_source);
}

TEST(Variation, FileorderingAsksForTheDisorderedSourceOrIsSkippedWithAReason) {
  std::string why = Unavailable("fileordering");
  EXPECT_EQ(why, DisorderView::Unavailable());
  EXPECT_EQ(VaryFactors({"fileordering"}).disorder_source, why.empty());
  EXPECT_FALSE(VaryFactors({"hostname"}).disorder_source);
}

}  // namespace
}  // namespace nsbuild::verify
