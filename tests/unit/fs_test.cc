// base/fs.h's reads of files a sandbox could have written: bounded, from the
// end for tails, never through a symlink, never blocking on a fifo.
#include "base/fs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/json_reader.h"
#include "builder/distcc.h"
#include "builder/status_printer.h"

namespace nsbuild::base {
namespace {

class BoundedRead : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nsbuild-bounded.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fd_.reset(::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(Path(name)) << text;
  }

  std::string dir_;
  UniqueFd fd_;
};

TEST_F(BoundedRead, ReadsAtMostTheBoundAndSaysSo) {
  Write("f", "0123456789");
  bool cut = false;
  auto r = ReadBounded(fd_, "f", 4, &cut);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(*r, "0123");
  EXPECT_TRUE(cut);
  r = ReadBounded(fd_, "f", 10, &cut);
  EXPECT_EQ(*r, "0123456789");
  EXPECT_FALSE(cut);
}

TEST_F(BoundedRead, TailReadsOnlyTheEndOfAHugeSparseFile) {
  int fd = ::open(Path("huge").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, off_t{1} << 40), 0);  // 1 TiB: a whole read could never fit
  ASSERT_EQ(::pwrite(fd, "\nlast line\n", 11, (off_t{1} << 40) - 11), 11);
  ::close(fd);
  bool cut = false;
  auto r = ReadTail(fd_, "huge", 64, &cut);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->size(), 64u);
  EXPECT_TRUE(r->ends_with("last line\n"));
  EXPECT_TRUE(cut);
  EXPECT_EQ(builder::LogTail(Path("huge"), 1), "last line\n");
}

TEST_F(BoundedRead, ASymlinkIsNotFollowed) {
  ASSERT_EQ(::symlink("/etc/passwd", Path("link").c_str()), 0);
  EXPECT_FALSE(ReadBounded(fd_, "link", 100).ok());
  EXPECT_FALSE(ReadTail(fd_, "link", 100).ok());
  EXPECT_FALSE(ReadFileAt(fd_, "link").ok());
  EXPECT_EQ(builder::LogTail(Path("link"), 5), "");
}

TEST_F(BoundedRead, AFifoDoesNotBlockAndIsRefused) {
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0644), 0);
  // Without O_NONBLOCK the open itself would wait for a writer forever.
  auto r = ReadBounded(fd_, "fifo", 100);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().Message().find("not a regular file"), std::string::npos)
      << r.error().Message();
  EXPECT_FALSE(ReadTail(fd_, "fifo", 100).ok());
  EXPECT_EQ(builder::LogTail(Path("fifo"), 5), "");
}

TEST_F(BoundedRead, LinesAreStreamedAndCut) {
  Write("log", "short\n" + std::string(100, 'x') + "\nlast");
  std::vector<std::string> lines;
  auto s = ForEachLine(fd_, "log", 10, 1 << 20, [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(s.ok()) << s.error().Message();
  EXPECT_EQ(lines, (std::vector<std::string>{"short", std::string(10, 'x'), "last"}));
}

TEST_F(BoundedRead, DistccLogThroughASymlinkOrFifoCountsNothing) {
  ASSERT_EQ(::symlink("/etc/passwd", Path("distcc.log").c_str()), 0);
  EXPECT_FALSE(builder::CountDistccLogFile(dir_).ok());
  ::unlink(Path("distcc.log").c_str());
  Write("distcc.log",
        "distcc[1] compile a.c on 127.0.0.2 completed ok\n"
        "distcc[2] compile b.c on localhost completed ok\n");
  auto c = builder::CountDistccLogFile(dir_);
  ASSERT_TRUE(c.ok()) << c.error().Message();
  EXPECT_EQ(c->remote, 1u);
  EXPECT_EQ(c->local, 1u);
}

TEST_F(BoundedRead, LogTailEscapesWhatItShows) {
  Write("log", "ok\n\x1b]52;c;ZXZpbA==\x07line\n");
  EXPECT_EQ(builder::LogTail(Path("log"), 1), "\\x1b]52;c;ZXZpbA==\\x07line\n");
}

TEST(DumpJson, InvalidUtf8DoesNotThrowAndStaysValidJson) {
  nlohmann::json j = {{"path", std::string("/usr/\xff\xfe\x1b[31m")}};
  std::string text;
  ASSERT_NO_THROW(text = DumpJson(j));
  auto back = nlohmann::json::parse(text);
  EXPECT_EQ(back["path"], "/usr/\xef\xbf\xbd\xef\xbf\xbd\x1b[31m");
  EXPECT_NE(text.find("\\u001b"), std::string::npos) << text;
}

}  // namespace
}  // namespace nsbuild::base
