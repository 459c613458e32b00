// The merge's default preference order (builder/impls.h): the system's
// default Python, other CPythons newest first, PyPy, then generic kinds.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "builder/impls.h"

namespace nsbuild::builder {
namespace {

Implementation Impl(const std::string& name, ImplKind kind) {
  Implementation i;
  i.name = name;
  i.kind = kind;
  return i;
}

TEST(PreferenceOrder, DefaultPythonThenCPythonsByVersionThenOthers) {
  std::vector<Implementation> impls = {
      Impl("lua5.4", ImplKind::kGeneric), Impl("pypy3", ImplKind::kPyPy),
      Impl("python3.9", ImplKind::kCPython), Impl("python3.12", ImplKind::kCPython),
      Impl("python3.11", ImplKind::kCPython)};
  EXPECT_EQ(PreferenceOrder(impls, "python3.11"),
            (std::vector<std::string>{"python3.11", "python3.12", "python3.9", "pypy3", "lua5.4"}));
  EXPECT_EQ(PreferenceOrder(impls, ""),
            (std::vector<std::string>{"python3.12", "python3.11", "python3.9", "pypy3", "lua5.4"}));
}

TEST(PreferenceOrder, DefaultComesFromDebianDefaults) {
  char path[] = "/tmp/nsbuild-defaults-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "[DEFAULT]\n# the default python3 version\n"
                         "default-version = python3.13 \nsupported-versions = python3.13\n";
  EXPECT_EQ(DebianDefaultPython(path), "python3.13");
  std::ofstream(path) << "[DEFAULT]\n";
  EXPECT_EQ(DebianDefaultPython(path), "");
  ::unlink(path);
  EXPECT_EQ(DebianDefaultPython(path), "");
}

}  // namespace
}  // namespace nsbuild::builder
