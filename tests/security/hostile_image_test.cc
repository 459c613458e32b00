// The hostile-image suite: crafted images that `nsbuild merge` must reject
// or neutralise, each asserting from outside that nothing beyond the
// destination changed (a host directory with a sentinel file, owned by
// another uid when root, whose mtime sealing would clamp if it ever
// followed a link) and that a refused merge left the destination as it was.
// Races use real concurrent processes or the merge API's before_execute
// hook. tests/security/README.md lists every case and what stops it.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

#include "merge/merge.h"
#include "tests/support/harness.h"
#include "tests/unit/merge_fixture.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;
using merge::testing::Read;
using merge::testing::Snapshot;
using merge::testing::Write;

constexpr uid_t kOtherUid = 12345;  // owns the host sentinel when root
constexpr uid_t kBuildUid = 65534;  // the "build" that owns an image, when root

struct Paths {
  std::string img, dest, host;
};

// A scratch world: an image to craft, a destination, and a host directory
// that must come out of every merge untouched.
class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    p_ = {s_.path() + "/img", s_.path() + "/dest", s_.path() + "/host"};
    for (const auto& d : {p_.img, p_.dest, p_.host}) fs::create_directories(d);
    Write(p_.host + "/secret", "host secret\n", 0640);
    struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
    ::utimensat(AT_FDCWD, (p_.host + "/secret").c_str(), ts, 0);
    if (IsRoot()) ::chown((p_.host + "/secret").c_str(), kOtherUid, kOtherUid);
    host_before_ = HostState();
  }

  void TearDown() override {
    EXPECT_EQ(HostState(), host_before_) << "a file outside the destination changed";
  }

  // Content, mode, owner and mtime of everything in the host directory.
  std::string HostState() const {
    std::string out;
    for (const auto& [rel, what] : Snapshot(p_.host)) {
      struct stat st;
      ::lstat((p_.host + "/" + rel).c_str(), &st);
      out += rel + " " + what + " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) +
             " " + std::to_string(st.st_mtim.tv_sec) + "\n";
    }
    return out;
  }

  CommandResult Merge(const std::string& image, const std::string& package = "evil",
                      const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {NsbuildBin(), "merge",     "--dest",
                                     p_.dest,      "--package", package};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(image);
    // Sealing clamps mtimes to SOURCE_DATE_EPOCH: a seal that followed a
    // link out of the image would show on the sentinel's mtime.
    return RunCommand(argv, {"SOURCE_DATE_EPOCH=1"});
  }

  // The destination without the merger's own (possibly empty) database dir.
  std::map<std::string, std::string> DestState() const {
    auto s = Snapshot(p_.dest);
    std::erase_if(s, [](const auto& kv) {
      return kv.first == "var" || kv.first == "var/lib" ||
             kv.first.rfind("var/lib/nsbuild", 0) == 0;
    });
    return s;
  }

  // The merge is refused with `why`, and the destination is as it was.
  void ExpectRefused(const std::string& why, const std::vector<std::string>& extra = {}) {
    auto before = DestState();
    auto r = Merge(p_.img, "evil", extra);
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    EXPECT_EQ(DestState(), before);
  }

  TempDir s_;
  Paths p_;
  std::string host_before_;
};

// ---- Images the checks reject (one per test, through `nsbuild merge`) ----

struct Crafted {
  const char* name;
  const char* why;        // in the rejection
  const char* root_only;  // non-null: skipped without root, with this reason
  std::function<void(const Paths&)> make;
};

const std::vector<Crafted>& CraftedImages() {
  static const std::vector<Crafted> all = {
      {"SetuidFile", "has the setuid bit", nullptr,
       [](const Paths& p) { Write(p.img + "/usr/bin/su", "x", 04755); }},
      {"SetgidFile", "has the setgid bit", nullptr,
       [](const Paths& p) { Write(p.img + "/usr/bin/wall", "x", 02755); }},
      {"WorldWritableFile", "is world-writable", nullptr,
       [](const Paths& p) { Write(p.img + "/usr/lib/libc-helper.so", "x", 0666); }},
      {"WorldWritableDirWithoutSticky", "without the sticky bit", nullptr,
       [](const Paths& p) {
         Write(p.img + "/usr/lib/plugins/a.so", "x");
         ::chmod((p.img + "/usr/lib/plugins").c_str(), 0777);
       }},
      {"CharacterDevice", "is a device node", "mknod of a device needs root",
       [](const Paths& p) {
         fs::create_directories(p.img + "/usr/share/dev");
         ASSERT_EQ(::mknod((p.img + "/usr/share/dev/mem").c_str(), S_IFCHR | 0666, makedev(1, 1)),
                   0);
       }},
      {"BlockDevice", "is a device node", "mknod of a device needs root",
       [](const Paths& p) {
         fs::create_directories(p.img + "/usr/share/dev");
         ASSERT_EQ(::mknod((p.img + "/usr/share/dev/sda").c_str(), S_IFBLK | 0600, makedev(8, 0)),
                   0);
       }},
      {"Fifo", "is a fifo", nullptr,
       [](const Paths& p) {
         fs::create_directories(p.img + "/usr/share/x");
         ASSERT_EQ(::mkfifo((p.img + "/usr/share/x/pipe").c_str(), 0644), 0);
       }},
      {"UnixSocket", "is a socket", nullptr,
       [](const Paths& p) {
         fs::create_directories(p.img + "/usr/share/x");
         int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
         sockaddr_un a = {};
         a.sun_family = AF_UNIX;
         std::string path = p.img + "/usr/share/x/sock";
         ASSERT_LT(path.size(), sizeof a.sun_path);
         std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
         ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
         ::close(fd);
       }},
      // The host file keeps its owner and mtime: a file linked from outside
      // is never sealed (chown, mtime clamp) nor read.
      {"HardlinkToAHostFile", "linked to a file outside", nullptr,
       [](const Paths& p) {
         fs::create_directories(p.img + "/usr/share/x");
         ASSERT_EQ(::link((p.host + "/secret").c_str(), (p.img + "/usr/share/x/stolen").c_str()),
                   0);
       }},
      {"RelativeSymlinkClimbingOut", "climbs out of the image", nullptr,
       [](const Paths& p) {
         fs::create_directories(p.img + "/usr/share/x");
         fs::create_symlink("../../../../../../../etc/shadow", p.img + "/usr/share/x/up");
       }},
      {"NewlineInAName", "control character", nullptr,
       [](const Paths& p) { Write(p.img + "/usr/share/x/evil\nusr/bin/su", "x"); }},
      {"InvalidUtf8Name", "not valid UTF-8", nullptr,
       [](const Paths& p) { Write(p.img + "/usr/share/x/bad\xc0\xafname", "x"); }},
      {"ControlCharsInASymlinkTarget", "symlink target has control characters", nullptr,
       [](const Paths& p) {
         fs::create_directories(p.img + "/usr/share/x");
         fs::create_symlink("a\nb", p.img + "/usr/share/x/l");
       }},
      {"FileCapabilities", "carries file capabilities",
       "setting security.capability needs CAP_SETFCAP",
       [](const Paths& p) {
         Write(p.img + "/usr/bin/ping", "x", 0755);
         const unsigned char cap[20] = {0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0x20};
         ASSERT_EQ(::setxattr((p.img + "/usr/bin/ping").c_str(), "security.capability", cap,
                              sizeof cap, 0),
                   0);
       }},
      {"TrustedXattr", "carries a privileged xattr (trusted.overlay.redirect)",
       "setting trusted.* needs CAP_SYS_ADMIN",
       [](const Paths& p) {
         fs::create_directories(p.img + "/usr/share/x");
         ASSERT_EQ(
             ::setxattr((p.img + "/usr/share/x").c_str(), "trusted.overlay.redirect", "/etc", 4, 0),
             0);
       }},
      {"OutsideTheAllowedPrefixes", "outside the policy's allowed prefixes", nullptr,
       [](const Paths& p) {
         Write(p.img + "/root/.ssh/authorized_keys", "ssh-ed25519 AAAA evil\n");
       }},
      {"UsrLocal", "/usr/local is not allowed", nullptr,
       [](const Paths& p) { Write(p.img + "/usr/local/bin/sudo", "x", 0755); }},
      {"ForgedDatabaseOfAnotherPackage", "reserved for the merger", nullptr,
       [](const Paths& p) {
         Write(p.img + "/var/lib/nsbuild/victim.json",
               R"({"format": 1, "package": "victim", "files": []})");
       }},
      {"ForgedExecDispatcher", "reserved for the merger", nullptr,
       [](const Paths& p) {
         Write(p.img + "/usr/lib/nsbuild-exec/nsbuild-exec", "#!/bin/sh\n", 0755);
       }},
      {"MergerTemporaryName", "names starting with .nsb- are reserved", nullptr,
       [](const Paths& p) {
         Write(p.img + "/usr/share/x/.nsb-old.0", "recovery would delete this");
       }},
      {"TreeTooDeep", "deeper than 64 levels", nullptr,
       [](const Paths& p) {
         std::string d = p.img + "/usr/share";
         for (int i = 0; i < 70; ++i) d += "/d";
         fs::create_directories(d);
       }},
      {"PathTooLong", "path is longer than 1024 bytes", nullptr,
       [](const Paths& p) {
         std::string d = p.img + "/usr/share";
         for (int i = 0; i < 5; ++i) d += "/" + std::string(230, 'a' + i);
         Write(d + "/f", "x");
       }},
      // A sparse file of a terabyte costs the build no disk; hashing it
      // would keep the merger busy for hours. Refused unread, at once.
      {"HugeSparseFile", "more than the policy's max_file_size", nullptr,
       [](const Paths& p) {
         Write(p.img + "/usr/share/x/huge", "");
         fs::resize_file(p.img + "/usr/share/x/huge", uintmax_t{1} << 40);
       }},
      // The sticky bit keeps others from removing what is not theirs, not
      // from adding a module that python then imports.
      {"StickyWorldWritableDir", "sticky, but others can still add files", nullptr,
       [](const Paths& p) {
         Write(p.img + "/usr/lib/python3/dist-packages/evil/__init__.py", "");
         ::chmod((p.img + "/usr/lib/python3/dist-packages/evil").c_str(), 01777);
       }},
      {"GroupWritableDir", "group- or world-writable directory without the sticky bit", nullptr,
       [](const Paths& p) {
         Write(p.img + "/usr/share/evil/x", "x");
         ::chmod((p.img + "/usr/share/evil").c_str(), 0775);
       }},
      {"ExecDispatcherConfig", "the admin's nsbuild-exec configuration", nullptr,
       [](const Paths& p) { Write(p.img + "/etc/nsbuild-exec.conf", "evilpy\n"); }},
      {"EtcIsASymlink", "is a symlink where the policy expects the directory /etc", nullptr,
       [](const Paths& p) { fs::create_symlink("/tmp/nsbuild-evil-etc", p.img + "/etc"); }},
      {"UsrLibIsASymlink", "is a symlink where the policy expects the directory /usr/lib", nullptr,
       [](const Paths& p) { fs::create_symlink("/var/tmp/nsbuild-evil-lib", p.img + "/usr/lib"); }},
      {"VarIsASymlink", "is a symlink where the policy expects the directory /var/lib", nullptr,
       [](const Paths& p) { fs::create_symlink("/tmp", p.img + "/var"); }},
      {"DoubledImagePrefix", "$D$D", nullptr,
       [](const Paths& p) { Write(p.img + "/var/tmp/nsbuild/pkg/image/usr/bin/x", "x", 0755); }},
  };
  return all;
}

class Rejected : public Hostile, public ::testing::WithParamInterface<const Crafted*> {};

TEST_P(Rejected, NothingMerged) {
  const Crafted& c = *GetParam();
  if (c.root_only && !IsRoot()) GTEST_SKIP() << c.root_only;
  Write(p_.img + "/usr/share/doc/evil/README", "the innocent part\n");
  c.make(p_);
  auto start = std::chrono::steady_clock::now();
  ExpectRefused(c.why);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_FALSE(fs::exists(p_.dest + "/usr"));
}

std::vector<const Crafted*> AllCrafted() {
  std::vector<const Crafted*> out;
  for (const auto& c : CraftedImages()) out.push_back(&c);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Image, Rejected, ::testing::ValuesIn(AllCrafted()),
                         [](const auto& info) { return std::string(info.param->name); });

// An RPATH into a build directory: a library search path a local user can
// fill (/tmp) later. A notice by default; fatal where the policy says so.
TEST_F(Hostile, ElfRpathIntoTheBuildDir) {
  std::string src = s_.path() + "/lib.c";
  Write(src, "int f(void) { return 1; }\n");
  fs::create_directories(p_.img + "/usr/lib");
  auto cc = RunCommand({"cc", "-shared", "-fPIC", "-o", p_.img + "/usr/lib/libevil.so", src,
                        "-Wl,-rpath,/tmp/nsbuild-evil/lib"});
  ASSERT_EQ(cc.status, 0) << cc.err;
  std::string policy = s_.path() + "/policy.json";
  Write(policy, R"({"merge": {"fatal_notices": ["rpath"]}})");
  ExpectRefused("[rpath] RPATH/RUNPATH \"/tmp/nsbuild-evil/lib\" points into a build directory",
                {"--policy", policy});
  auto warned = Nsbuild({"check", p_.img});
  EXPECT_NE(warned.err.find("[rpath]"), std::string::npos) << warned.err;
}

// ---- Images the merger neutralises: merged, but never followed ----

TEST_F(Hostile, AbsoluteSymlinkIntoTheHostIsInstalledAsALink) {
  Write(p_.img + "/usr/share/evil/data", "data\n");
  fs::create_symlink(p_.host + "/secret", p_.img + "/usr/share/evil/secret");
  fs::create_symlink(p_.host, p_.img + "/usr/share/evil/hostdir");
  auto r = Merge(p_.img);
  ASSERT_EQ(r.status, 0) << r.err;
  // Installed as links, not followed: sealing (chown, the mtime clamp) and
  // hashing went to the links, never to the host files (TearDown checks).
  EXPECT_EQ(fs::read_symlink(p_.dest + "/usr/share/evil/secret"), p_.host + "/secret");
  EXPECT_TRUE(fs::is_symlink(p_.dest + "/usr/share/evil/hostdir"));
  ASSERT_EQ(Nsbuild({"uninstall", "evil", "--dest", p_.dest}).status, 0);
  EXPECT_FALSE(fs::exists(p_.dest + "/usr/share/evil"));
}

TEST_F(Hostile, SymlinkLoopsAreLinksNotPaths) {
  fs::create_directories(p_.img + "/usr/share/evil");
  fs::create_symlink("b", p_.img + "/usr/share/evil/a");
  fs::create_symlink("a", p_.img + "/usr/share/evil/b");
  fs::create_symlink(".", p_.img + "/usr/share/evil/self");
  auto r = Merge(p_.img);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(fs::read_symlink(p_.dest + "/usr/share/evil/self"), ".");
}

// ---- The destination changed under the merger ----

void MakeV1(const std::string& img) {
  Write(img + "/usr/share/foo/a", "a1\n");
  Write(img + "/usr/share/foo/b", "b1\n");
}

// Between two runs something (an earlier package, a local user with write
// access to a directory, an attacker) replaced an installed directory by a
// symlink to the host: the upgrade is refused and the uninstall removes
// nothing through it.
TEST_F(Hostile, DestinationDirSymlinkPlantedBetweenRuns) {
  MakeV1(p_.img);
  ASSERT_EQ(Merge(p_.img, "foo").status, 0);
  Write(p_.host + "/a", "a1\n");  // same names and content as the package's
  Write(p_.host + "/b", "b1\n");
  host_before_ = HostState();
  fs::remove_all(p_.dest + "/usr/share/foo");
  fs::create_directory_symlink(p_.host, p_.dest + "/usr/share/foo");
  std::string v2 = s_.path() + "/v2";
  Write(v2 + "/usr/share/foo/a", "a2\n");
  Write(v2 + "/usr/share/foo/c", "c2\n");
  auto before = DestState();
  auto r = Merge(v2, "foo");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("/usr/share/foo: the package has a directory here"), std::string::npos)
      << r.err;
  EXPECT_EQ(DestState(), before);
  auto un = Nsbuild({"uninstall", "foo", "--dest", p_.dest});
  EXPECT_TRUE(fs::exists(p_.host + "/a")) << un.err;
  EXPECT_TRUE(fs::exists(p_.host + "/b")) << un.err;
}

// An installed file replaced by a symlink to a host file: the upgrade
// replaces the link itself, and neither it nor the uninstall writes or
// removes through it.
TEST_F(Hostile, DestinationFileSymlinkPlantedBetweenRuns) {
  MakeV1(p_.img);
  ASSERT_EQ(Merge(p_.img, "foo").status, 0);
  fs::remove(p_.dest + "/usr/share/foo/a");
  fs::create_symlink(p_.host + "/secret", p_.dest + "/usr/share/foo/a");
  std::string v2 = s_.path() + "/v2";
  Write(v2 + "/usr/share/foo/a", "a2\n");
  Write(v2 + "/usr/share/foo/b", "b2\n");
  auto r = Merge(v2, "foo");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::is_symlink(p_.dest + "/usr/share/foo/a"));
  EXPECT_EQ(Read(p_.dest + "/usr/share/foo/a"), "a2\n");
  fs::remove(p_.dest + "/usr/share/foo/b");
  fs::create_symlink(p_.host + "/secret", p_.dest + "/usr/share/foo/b");
  auto un = Nsbuild({"uninstall", "foo", "--dest", p_.dest});
  EXPECT_EQ(un.status, 0) << un.err;
  EXPECT_TRUE(fs::is_symlink(p_.dest + "/usr/share/foo/b"));  // changed since install: kept
}

TEST_F(Hostile, DestinationItselfIsASymlink) {
  Write(p_.img + "/usr/share/evil/x", "x\n");
  std::string link = s_.path() + "/dest-link";
  fs::create_directory_symlink(p_.host, link);
  auto r = RunCommand({NsbuildBin(), "merge", "--dest", link, "--package", "evil", p_.img});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find(link + " is a symlink, which the merger never follows"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(p_.host + "/usr"));
  EXPECT_FALSE(fs::exists(p_.host + "/var"));
}

// A directory of the destination swapped for a symlink to the host after
// the plan was made, right before the first change: the merge fails, rolls
// back, and nothing lands in the host directory.
TEST_F(Hostile, DestinationDirSwappedForASymlinkDuringTheMerge) {
  Write(p_.dest + "/usr/share/foo/keep", "admin's\n");
  for (int i = 0; i < 20; ++i) Write(p_.img + "/usr/share/foo/f" + std::to_string(i), "x\n");
  merge::MergeRequest req;
  req.dest = p_.dest;
  req.package = "foo";
  req.images = {{"", p_.img}};
  req.before_execute = [&] {
    fs::rename(p_.dest + "/usr/share/foo", p_.dest + "/usr/share/foo.moved");
    fs::create_directory_symlink(p_.host, p_.dest + "/usr/share/foo");
  };
  auto rep = merge::MergeImages(req);
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().Message().find("nothing was changed"), std::string::npos)
      << rep.error().Message();
  EXPECT_EQ(Read(p_.dest + "/usr/share/foo.moved/keep"), "admin's\n");
}

// A directory of the (sealed) image swapped for a symlink to the host
// between the checks and the links: every source is opened beneath the
// image root without symlinks, so the host's files are never linked in.
TEST_F(Hostile, ImageDirSwappedForASymlinkDuringTheMerge) {
  for (int i = 0; i < 20; ++i) Write(p_.img + "/usr/share/foo/f" + std::to_string(i), "x\n");
  Write(p_.host + "/f0", "host's f0\n");
  host_before_ = HostState();
  merge::MergeRequest req;
  req.dest = p_.dest;
  req.package = "foo";
  req.images = {{"", p_.img}};
  req.before_execute = [&] {
    fs::rename(p_.img + "/usr/share/foo", p_.img + "/usr/share/foo.moved");
    fs::create_directory_symlink(p_.host, p_.img + "/usr/share/foo");
  };
  auto rep = merge::MergeImages(req);
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().Message().find("nothing was changed"), std::string::npos)
      << rep.error().Message();
  EXPECT_FALSE(fs::exists(p_.dest + "/usr/share/foo/f0"));
}

// ---- The image changed while it is checked ----

// A child process, as the build's uid when root, running `body` until
// killed; body(ready) writes a byte to `ready` once it is in place.
class Mutator {
 public:
  explicit Mutator(const std::function<void(int)>& body) {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(p[0]);
      if (::geteuid() == 0 &&
          (::setgroups(0, nullptr) != 0 || ::setresgid(kBuildUid, kBuildUid, kBuildUid) != 0 ||
           ::setresuid(kBuildUid, kBuildUid, kBuildUid) != 0)) {
        ::_exit(3);
      }
      // Never back into gtest from the child: a body whose target vanished
      // (a merged image is emptied) just stops.
      try {
        body(p[1]);
      } catch (...) {
      }
      ::_exit(0);
    }
    ::close(p[1]);
    char c;
    EXPECT_EQ(::read(p[0], &c, 1), 1) << "the mutator did not start";
    ::close(p[0]);
  }
  ~Mutator() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_;
};

// The image belongs to the build's uid, as a finished build's does.
void GiveToBuild(const std::string& img) {
  if (IsRoot()) {
    std::string ids = std::to_string(kBuildUid) + ":" + std::to_string(kBuildUid);
    ASSERT_EQ(RunCommand({"chown", "-R", ids, img}).status, 0);
  }
}

// A build process still alive with one of its files open for writing would
// change the installed file (a hardlink) after the merge: sealing cannot
// revoke an open fd, so the merger refuses while a writer exists.
TEST_F(Hostile, ImageFileHeldOpenForWriting) {
  std::string victim = p_.img + "/usr/share/foo/lib.py";
  Write(victim, "print('good')\n");
  GiveToBuild(p_.img);
  Mutator writer([&](int ready) {
    int fd = ::open(victim.c_str(), O_WRONLY);
    if (fd < 0) ::_exit(4);
    if (::write(ready, "r", 1) != 1) ::_exit(5);
    for (;;) ::pause();
  });
  auto r = Merge(p_.img, "foo");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("is open for writing by a live process"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(p_.dest + "/usr/share/foo/lib.py"));
}

// A process of the build's uid keeps changing the image while it is merged:
// new inodes under old names, setuid bits on its own files, rewrites in
// place, a directory swapped for a symlink to the host and back. Whatever
// the timing, the merge either refuses or installs a consistent state that
// the mutator can no longer change: sealing gives every directory and file
// to root before it is trusted, and each is re-checked against the scan.
TEST_F(Hostile, ImageMutatedWhileItIsChecked) {
  if (!IsRoot())
    GTEST_SKIP() << "sealing takes the image from the build's uid only when the merger is root";
  std::string tmpl = s_.path() + "/tmpl";
  constexpr int kFiles = 150;
  for (int i = 0; i < kFiles; ++i)
    Write(tmpl + "/usr/share/m/f" + std::to_string(i), "good " + std::to_string(i) + "\n");
  Write(tmpl + "/usr/share/m/sub/g", "good g\n");
  int merged = 0, refused = 0;
  // Rounds 0-9 mutate during the merge; in round 10 the mutator starts only
  // after the merge returned, so it always attacks installed files.
  for (int round = 0; round <= 10; ++round) {
    fs::remove_all(p_.img);
    ASSERT_EQ(RunCommand({"cp", "-a", tmpl, p_.img}).status, 0);
    GiveToBuild(p_.img);
    std::string dest = s_.path() + "/dest" + std::to_string(round);
    fs::create_directories(dest);
    CommandResult r;
    auto merge = [&] {
      r = RunCommand({NsbuildBin(), "merge", "--dest", dest, "--package", "m", p_.img});
    };
    if (round == 10) merge();
    {
      std::string m = p_.img + "/usr/share/m", host = p_.host;
      Mutator mutator([&](int ready) {
        if (::write(ready, "r", 1) != 1) ::_exit(5);
        // Later in each round: from before the scan to after the seal.
        std::this_thread::sleep_for(std::chrono::milliseconds(round < 10 ? round * 6 : 0));
        for (unsigned n = 0;; ++n) {
          std::string f = m + "/f" + std::to_string(n % kFiles), tmp = f + ".new";
          Write(tmp, "evil\n");
          ::rename(tmp.c_str(), f.c_str());
          ::chmod(f.c_str(), 04755);
          int fd = ::open(f.c_str(), O_WRONLY);
          if (fd >= 0) {
            if (::write(fd, "EVIL", 4) < 0) {
            }
            ::close(fd);
          }
          ::rename((m + "/sub").c_str(), (m + "/sub.moved").c_str());
          ::symlink(host.c_str(), (m + "/sub").c_str());
          ::unlink((m + "/sub").c_str());
          ::rename((m + "/sub.moved").c_str(), (m + "/sub").c_str());
        }
      });
      if (round < 10) {
        merge();
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
    }  // the mutator is killed here: what it did is done
    if (r.status == 0) {
      ++merged;
      auto v = Nsbuild({"verify-installed", "m", "--dest", dest});
      EXPECT_EQ(v.status, 0) << "installed files changed after the merge: " << v.out << v.err;
      for (const auto& e : fs::recursive_directory_iterator(dest)) {
        struct stat st;
        ::lstat(e.path().c_str(), &st);
        EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u) << e.path();
        EXPECT_EQ(st.st_uid, 0u) << e.path();
      }
    } else {
      ++refused;
      std::printf("round %d refused: %s", round, r.err.substr(0, r.err.find('\n') + 1).c_str());
      EXPECT_EQ(r.status, 1) << r.err;
      EXPECT_FALSE(fs::exists(dest + "/usr")) << r.err;
    }
  }
  std::printf("mutated images: %d merged consistently, %d refused\n", merged, refused);
  EXPECT_GE(merged, 1);  // round 10 at least
}

// ---- Exactly the inode that was checked (issue 13, item 1) ----

// A POSIX access ACL in the kernel's xattr format granting `uid` rw: what
// `setfacl -m u:UID:rw` stores in system.posix_acl_access.
std::string AclGranting(uid_t uid) {
  struct Entry {
    uint16_t tag, perm;
    uint32_t id;
  };
  const Entry entries[] = {
      {0x01, 6, ~0u}, {0x02, 6, uid}, {0x04, 4, ~0u}, {0x10, 6, ~0u}, {0x20, 4, ~0u}};
  std::string out(4, '\0');
  uint32_t version = 2;
  std::memcpy(out.data(), &version, 4);
  out.append(reinterpret_cast<const char*>(entries), sizeof entries);
  return out;
}

bool SetAcl(const std::string& path, uid_t uid) {
  std::string acl = AclGranting(uid);
  return ::setxattr(path.c_str(), "system.posix_acl_access", acl.data(), acl.size(), 0) == 0;
}

// Every xattr name on `path` (not following a symlink).
std::string XattrsOf(const std::string& path) {
  char buf[4096];
  ssize_t n = ::llistxattr(path.c_str(), buf, sizeof buf);
  std::string out;
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(buf + i)) + 1)
    out += std::string(buf + i) + " ";
  return out;
}

// A file of the image changed after it was sealed and hashed, right before
// the links (as a writer the lease probe missed, or root, would): appended
// to, or given an ACL (which chown would keep). The merger links only
// through an fd whose owner, mode, size and ctime still match the seal, so
// the changed inode is never installed and nothing is.
TEST_F(Hostile, FileChangedAfterItWasHashedIsNeverLinked) {
  struct Change {
    const char* name;
    std::function<void(const std::string&)> apply;
  };
  const Change changes[] = {
      {"appended",
       [](const std::string& f) {
         int fd = ::open(f.c_str(), O_WRONLY | O_APPEND);
         ASSERT_GE(fd, 0);
         ASSERT_EQ(::write(fd, "EVIL", 4), 4);
         ::close(fd);
       }},
      {"rewritten in place, same size",
       [](const std::string& f) {
         int fd = ::open(f.c_str(), O_WRONLY);
         ASSERT_GE(fd, 0);
         ASSERT_EQ(::pwrite(fd, "EVIL", 4, 0), 4);
         ::close(fd);
       }},
      {"ACL added",
       [](const std::string& f) {
         if (!SetAcl(f, kOtherUid)) GTEST_SKIP() << "no POSIX ACLs here: " << std::strerror(errno);
       }},
      {"chmod", [](const std::string& f) { ASSERT_EQ(::chmod(f.c_str(), 0666), 0); }},
  };
  for (const auto& c : changes) {
    SCOPED_TRACE(c.name);
    fs::remove_all(p_.img);
    std::string dest = s_.path() + "/dest-" + std::to_string(&c - changes);
    fs::create_directories(dest);
    for (int i = 0; i < 10; ++i) Write(p_.img + "/usr/share/foo/f" + std::to_string(i), "good\n");
    merge::MergeRequest req;
    req.dest = dest;
    req.package = "foo";
    req.images = {{"", p_.img}};
    req.before_execute = [&] { c.apply(p_.img + "/usr/share/foo/f7"); };
    auto rep = merge::MergeImages(req);
    if (::testing::Test::IsSkipped()) return;
    ASSERT_FALSE(rep.ok());
    EXPECT_NE(rep.error().Message().find("/usr/share/foo/f7 in image " + p_.img +
                                         " changed after it was checked"),
              std::string::npos)
        << rep.error().Message();
    EXPECT_NE(rep.error().Message().find("nothing was changed"), std::string::npos)
        << rep.error().Message();
    EXPECT_FALSE(fs::exists(dest + "/usr/share/foo/f0"));
  }
}

// The build's uid keeps adding named-user ACLs (for itself) and user.*
// xattrs to its files and directories while the merge runs: an ACL set
// after the scan used to survive sealing (chown keeps it), leaving the
// build write access to installed files forever. Now sealing strips every
// xattr the policy does not allow, and the pinned ctime catches any set
// after that: whatever the timing, the merge refuses or installs files
// without an ACL that the build's uid cannot open for writing.
TEST_F(Hostile, AclAddedWhileMergingNeverReachesTheDestination) {
  if (!IsRoot())
    GTEST_SKIP() << "sealing takes the image from the build's uid only when the merger is root";
  std::string probe = s_.path() + "/probe";
  Write(probe, "x");
  if (!SetAcl(probe, kOtherUid)) GTEST_SKIP() << "no POSIX ACLs here: " << std::strerror(errno);
  std::string tmpl = s_.path() + "/tmpl";
  constexpr int kFiles = 120;
  for (int i = 0; i < kFiles; ++i) Write(tmpl + "/usr/share/m/f" + std::to_string(i), "good\n");
  int merged = 0, refused = 0;
  for (int round = 0; round < 8; ++round) {
    fs::remove_all(p_.img);
    ASSERT_EQ(RunCommand({"cp", "-a", tmpl, p_.img}).status, 0);
    GiveToBuild(p_.img);
    std::string dest = s_.path() + "/dest" + std::to_string(round);
    fs::create_directories(dest);
    CommandResult r;
    {
      std::string m = p_.img + "/usr/share/m";
      Mutator mutator([&](int ready) {
        if (::write(ready, "r", 1) != 1) ::_exit(5);
        std::this_thread::sleep_for(std::chrono::milliseconds(round * 5));
        for (unsigned n = 0;; ++n) {
          std::string f = m + "/f" + std::to_string(n % kFiles);
          SetAcl(f, kBuildUid);
          ::setxattr(f.c_str(), "user.evil", "1", 1, 0);
          SetAcl(m, kBuildUid);
        }
      });
      r = RunCommand({NsbuildBin(), "merge", "--dest", dest, "--package", "m", p_.img});
    }
    if (r.status != 0) {
      ++refused;
      EXPECT_EQ(r.status, 1) << r.err;
      EXPECT_FALSE(fs::exists(dest + "/usr")) << r.err;
      continue;
    }
    ++merged;
    for (const auto& e : fs::recursive_directory_iterator(dest + "/usr")) {
      EXPECT_EQ(XattrsOf(e.path()), "") << e.path();
    }
    // As the build's uid: no installed file opens for writing.
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(kBuildUid, kBuildUid, kBuildUid) != 0 ||
          ::setresuid(kBuildUid, kBuildUid, kBuildUid) != 0) {
        ::_exit(3);
      }
      for (int i = 0; i < kFiles; ++i) {
        if (::open((dest + "/usr/share/m/f" + std::to_string(i)).c_str(), O_WRONLY) >= 0)
          ::_exit(1);
      }
      ::_exit(0);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
        << "the build's uid can write an installed file";
  }
  std::printf("ACL race: %d merged without ACLs, %d refused\n", merged, refused);
}

// An image that arrives with an ACL on a file or directory is refused, and
// user.* xattrs (which grant nothing, but which nobody vetted) are not
// installed: sealing removes every xattr the policy does not list.
TEST_F(Hostile, AclOnArrivalIsRefusedAndUserXattrsAreStripped) {
  Write(p_.img + "/usr/share/foo/a", "a\n");
  if (!SetAcl(p_.img + "/usr/share/foo/a", kOtherUid)) GTEST_SKIP() << "no POSIX ACLs here";
  ExpectRefused("carries an ACL (system.posix_acl_access)");
  fs::remove_all(p_.img);
  Write(p_.img + "/usr/share/foo/a", "a\n");
  if (::setxattr((p_.img + "/usr/share/foo/a").c_str(), "user.note", "x", 1, 0) != 0) {
    GTEST_SKIP() << "no user xattrs here";
  }
  auto r = Merge(p_.img, "foo");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(XattrsOf(p_.dest + "/usr/share/foo/a"), "");
}

// ---- Package origins (issue 13, item 2) ----

// A second recipe reusing an installed package's name would replace its
// files and remove the rest. The database records each package's origin;
// another origin is refused unless the operator says --replace.
TEST_F(Hostile, PackageNameSquattingNeedsReplace) {
  Write(p_.img + "/usr/lib/libvictim.so.1", "victim\n");
  merge::MergeRequest req;
  req.dest = p_.dest;
  req.package = "victim";
  req.images = {{"", p_.img}};
  req.origin = "recipe /srv/recipes/victim.json";
  req.origin_sha256 = std::string(64, 'a');
  auto first = merge::MergeImages(req);
  ASSERT_TRUE(first.ok() && first->merged) << (first.ok() ? "" : first.error().Message());
  EXPECT_NE(Read(p_.dest + "/var/lib/nsbuild/victim.json")
                .find(R"("origin": "recipe /srv/recipes/victim.json")"),
            std::string::npos);
  std::string squat = s_.path() + "/squat";
  Write(squat + "/usr/share/evil/x", "evil\n");
  auto before = DestState();
  req.images = {{"", squat}};
  req.origin = "recipe /home/mallory/victim.json";
  auto refused = merge::MergeImages(req);
  ASSERT_TRUE(refused.ok()) << refused.error().Message();
  EXPECT_FALSE(refused->merged);
  ASSERT_EQ(refused->collisions.size(), 1u);
  EXPECT_NE(refused->collisions[0].reason.find("is installed from recipe /srv/recipes/victim.json"),
            std::string::npos)
      << refused->collisions[0].reason;
  EXPECT_EQ(DestState(), before);
  // From the command line (origin "operator"): refused too, then --replace.
  auto cli = Merge(squat, "victim");
  EXPECT_EQ(cli.status, 1) << cli.err;
  EXPECT_NE(cli.err.find("--replace replaces it"), std::string::npos) << cli.err;
  EXPECT_EQ(DestState(), before);
  auto replaced = Merge(squat, "victim", {"--replace"});
  ASSERT_EQ(replaced.status, 0) << replaced.err;
  EXPECT_FALSE(fs::exists(p_.dest + "/usr/lib/libvictim.so.1"));
  EXPECT_NE(Read(p_.dest + "/var/lib/nsbuild/victim.json").find(R"("origin": "operator")"),
            std::string::npos);
}

// ---- Images after the merge (issue 13, item 6) ----

// A merged image's files were second names of the installed inodes. After
// the merge the image holds nothing but the marker, and merging it again
// says where it went instead of "linked to a file outside".
TEST_F(Hostile, MergedImageIsEmptiedAndAMergeAgainSaysWhere) {
  Write(p_.img + "/usr/share/foo/lib.py", "print('good')\n");
  Write(p_.img + "/usr/share/foo/sub/data", "data\n");
  GiveToBuild(p_.img);
  auto r = Merge(p_.img, "foo");
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(p_.img)) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{".nsbuild-merged"});
  struct stat st;
  ASSERT_EQ(::stat((p_.dest + "/usr/share/foo/lib.py").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u) << "the installed file still has a second name";
  std::string again = s_.path() + "/dest2";
  fs::create_directories(again);
  auto r2 = RunCommand({NsbuildBin(), "merge", "--dest", again, "--package", "foo", p_.img});
  EXPECT_EQ(r2.status, 1) << r2.err;
  EXPECT_NE(r2.err.find("already merged into " + p_.dest + " (package foo)"), std::string::npos)
      << r2.err;
  EXPECT_FALSE(fs::exists(again + "/usr"));
}

// ---- Memory an image sizes (issue 13, item 5) ----

struct Measured {
  int status = -1;
  long max_rss_kib = 0;
  std::string out;
};

// Runs nsbuild with `args`, its stdout and stderr to a file, and returns
// its exit status and peak RSS (ru_maxrss of the child, from wait4).
Measured MeasureNsbuild(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv = {NsbuildBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  Measured m;
  int st = 0;
  struct rusage ru = {};
  ::wait4(pid, &st, 0, &ru);
  m.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  m.max_rss_kib = ru.ru_maxrss;
  m.out = Read(log);
  return m;
}

// A sparse file that starts like an ELF file whose header tables are as
// large as the format allows and lie in the hole.
void SparseElf(const std::string& path, uint64_t size) {
  std::string eh(64, '\0');
  const unsigned char ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  std::memcpy(eh.data(), ident, sizeof ident);
  uint16_t type = 3 /* ET_DYN */, phentsize = 56, phnum = 65535, shentsize = 64, shnum = 65535;
  uint64_t table = uint64_t{1} << 30;
  std::memcpy(eh.data() + 16, &type, 2);
  std::memcpy(eh.data() + 32, &table, 8);  // e_phoff
  std::memcpy(eh.data() + 40, &table, 8);  // e_shoff
  std::memcpy(eh.data() + 54, &phentsize, 2);
  std::memcpy(eh.data() + 56, &phnum, 2);
  std::memcpy(eh.data() + 58, &shentsize, 2);
  std::memcpy(eh.data() + 60, &shnum, 2);
  Write(path, eh, 0755);
  fs::resize_file(path, size);
}

// The ELF QA used to read every candidate whole (a sparse 1.5 GiB file
// starting with \177ELF took the merger to 2.1 GB), and `nsbuild diff`
// read whole files to describe a difference. Now: pread of the headers and
// bounded tables, streamed hashing and comparison, text diffs only under
// 1 MiB. Asserts peak RSS (not time) of each command, and prints it.
TEST_F(Hostile, ImagesSizingGigabytesKeepEveryCommandUnder64MiB) {
  constexpr long kLimitKib = RssBoundKib(64 * 1024);
  SparseElf(p_.img + "/usr/lib/libhuge.so", uint64_t{3} << 29);  // 1.5 GiB
  Write(p_.img + "/usr/share/doc/huge/README", "sparse\n");
  std::string a = s_.path() + "/a", b = s_.path() + "/b";
  for (const auto& d : {a, b}) {
    Write(d + "/usr/share/huge/blob", "");
    fs::resize_file(d + "/usr/share/huge/blob", uint64_t{1} << 30);
  }
  {
    int fd = ::open((b + "/usr/share/huge/blob").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "x", 1, (int64_t{1} << 30) - 1), 1);
    ::close(fd);
  }
  std::string log = s_.path() + "/log";
  auto check = MeasureNsbuild({"check", p_.img}, log);
  EXPECT_EQ(check.status, 0) << check.out;
  EXPECT_NE(check.out.find("[execstack]"), std::string::npos) << check.out;  // the QA ran
  auto diff = MeasureNsbuild({"diff", a, b}, log);
  EXPECT_EQ(diff.status, 1) << diff.out;
  EXPECT_NE(diff.out.find("first difference at byte offset 1073741823"), std::string::npos)
      << diff.out;
  auto merged = MeasureNsbuild({"merge", "--dest", p_.dest, "--package", "huge", p_.img}, log);
  EXPECT_EQ(merged.status, 0) << merged.out;
  EXPECT_EQ(fs::file_size(p_.dest + "/usr/lib/libhuge.so"), uint64_t{3} << 29);
  std::printf(
      "peak RSS: check %ld KiB, merge %ld KiB (1.5 GiB sparse ELF); diff %ld KiB (two 1 GiB sparse "
      "files)\n",
      check.max_rss_kib, merged.max_rss_kib, diff.max_rss_kib);
  EXPECT_LT(check.max_rss_kib, kLimitKib);
  EXPECT_LT(merged.max_rss_kib, kLimitKib);
  EXPECT_LT(diff.max_rss_kib, kLimitKib);
}
}  // namespace
}  // namespace nsbuild::testing
