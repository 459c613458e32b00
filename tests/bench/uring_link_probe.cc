// Would io_uring pay for the merger's execute phase (issue #16)? This probe
// times what that phase does to the kernel, without the rest of the merge:
// create every directory of an image tree in an empty destination, then
// hard-link every regular file and symlink of the image into it, in several
// ways (modes), interleaved in rounds, medians printed with the wall time,
// the CPU time of the whole process (io-wq workers are threads of it) and of
// the calling thread alone, and the ratio to `sync` (what cp -al does).
//
//   nsbuild_uring_link_probe [--rounds N] [--modes a,b,...] IMAGE DEST
//   nsbuild_uring_link_probe --once MODE IMAGE DEST   (one run, for strace -c)
//
// DEST must not exist and must be on IMAGE's filesystem; the probe creates
// it before each run and removes it after (untimed), and after every timed
// run checks that DEST holds exactly the image's names, each linked to the
// image's inode. Needs root: a link from an fd (AT_EMPTY_PATH) needs
// CAP_DAC_READ_SEARCH. Modes (the fd ones check each source as the merger
// does: open O_PATH|O_NOFOLLOW, fstat, same inode and type, link from the fd):
//   sync          mkdirat per directory, linkat by path per file
//   sync-fd       the merger's form, one thread
//   threads       sync-fd over one thread per CPU, contiguous slices of the
//                 files in walk order (the merger's link lanes)
//   uring-B       IORING_OP_MKDIRAT one depth at a time, IORING_OP_LINKAT by
//                 path, B SQEs per submit (B = 64, 256)
//   uring-fd-B    open and fstat in user space, IORING_OP_LINKAT from the fd
//   uring-pipe-B, uring-fd-pipe-B   the same, the next batch prepared and
//                 submitted while the last one runs (B = 256)
//   uring-async-pipe-B, uring-fd-async-pipe-B   pipelined, and every SQE
//                 IOSQE_ASYNC: io-wq then starts another worker for an item
//                 that finds none idle (otherwise only when one blocks), so
//                 links can run on several CPUs at once
//   walk          (--once only) nothing: the baseline for syscall counts
#include <dirent.h>
#include <fcntl.h>
#include <liburing.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

[[noreturn]] void Die(const std::string& what, int err) {
  std::fprintf(stderr, "uring_link_probe: %s: %s\n", what.c_str(), std::strerror(err));
  std::exit(1);
}
[[noreturn]] void Die(const std::string& what) { Die(what, errno); }
[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "uring_link_probe: FAILED: %s\n", what.c_str());
  std::exit(1);
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The image, listed once (untimed). dirs[0] is the root; a directory comes
// after its parent; a directory's leaves are contiguous.
struct Dir {
  std::string path;  // relative; "" for the root
  int depth;
};
struct Leaf {
  uint32_t dir;
  std::string name;
  std::string path;
  ino_t ino;
  bool symlink;
};
struct Tree {
  std::vector<Dir> dirs;
  std::vector<Leaf> leaves;
  std::vector<std::vector<uint32_t>> by_depth;  // directories other than the root
};

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

std::vector<std::string> SortedNames(int dirfd) {
  DIR* d = ::fdopendir(::dup(dirfd));
  if (!d) Die("opendir");
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
      names.push_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

void WalkDir(int dirfd, uint32_t index, Tree* t) {
  std::vector<std::pair<std::string, int>> subdirs;
  const std::string here = t->dirs[index].path;
  for (const std::string& name : SortedNames(dirfd)) {
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) Die("stat " + name);
    if (S_ISDIR(st.st_mode)) {
      subdirs.emplace_back(name, 0);
    } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
      t->leaves.push_back({index, name, Join(here, name), st.st_ino, S_ISLNK(st.st_mode)});
    } else {
      Fail(Join(here, name) + " is neither a file, a symlink nor a directory");
    }
  }
  for (auto& [name, unused] : subdirs) {
    Fd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub.get() < 0) Die("open " + Join(here, name));
    auto child = static_cast<uint32_t>(t->dirs.size());
    t->dirs.push_back({Join(here, name), t->dirs[index].depth + 1});
    WalkDir(sub.get(), child, t);
  }
}

Tree Walk(const std::string& root) {
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) Die("open " + root);
  Tree t;
  t.dirs.push_back({"", 0});
  WalkDir(fd.get(), 0, &t);
  for (uint32_t i = 1; i < t.dirs.size(); ++i) {
    auto d = static_cast<size_t>(t.dirs[i].depth);
    if (t.by_depth.size() < d) t.by_depth.resize(d);
    t.by_depth[d - 1].push_back(i);
  }
  return t;
}

// Every directory's fd, opened on first use and kept for the run (the
// merger keeps one while consecutive operations stay in its directory; here
// a batch of io_uring links spans directories, so all stay open).
class DirFds {
 public:
  DirFds(const Tree& t, int root) : tree_(t), root_(root), fds_(t.dirs.size()) {}
  int Get(uint32_t i) {
    if (i == 0) return root_;
    if (fds_[i].get() < 0) {
      fds_[i] = Fd(::openat(root_, tree_.dirs[i].path.c_str(),
                            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (fds_[i].get() < 0) Die("open directory " + tree_.dirs[i].path);
    }
    return fds_[i].get();
  }

 private:
  const Tree& tree_;
  int root_;
  std::vector<Fd> fds_;
};

// The merger's check: the name still leads to the listed inode, of the
// listed type. Returns the O_PATH fd to link from.
int OpenChecked(DirFds& src, const Leaf& l) {
  int fd = ::openat(src.Get(l.dir), l.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0) Die("open " + l.path);
  if (st.st_ino != l.ino || S_ISLNK(st.st_mode) != l.symlink) Fail(l.path + " changed");
  return fd;
}

struct Ctx {
  const Tree& tree;
  int src;  // image root
  int dst;  // destination root, empty
};

struct RunStats {
  int iowq_workers = 0;  // iou-wrk threads alive at the end of the run
};

void MkdirsSync(const Ctx& c) {
  for (size_t i = 1; i < c.tree.dirs.size(); ++i) {
    if (::mkdirat(c.dst, c.tree.dirs[i].path.c_str(), 0755) != 0)
      Die("mkdir " + c.tree.dirs[i].path);
  }
}

void RunSync(const Ctx& c, RunStats*) {
  MkdirsSync(c);
  for (const Leaf& l : c.tree.leaves) {
    if (::linkat(c.src, l.path.c_str(), c.dst, l.path.c_str(), 0) != 0) Die("link " + l.path);
  }
}

void LinkFdRange(const Ctx& c, size_t lo, size_t hi) {
  DirFds src(c.tree, c.src), dst(c.tree, c.dst);
  for (size_t k = lo; k < hi; ++k) {
    const Leaf& l = c.tree.leaves[k];
    Fd fd(OpenChecked(src, l));
    if (::linkat(fd.get(), "", dst.Get(l.dir), l.name.c_str(), AT_EMPTY_PATH) != 0) {
      Die("link " + l.path);
    }
  }
}

void RunSyncFd(const Ctx& c, RunStats*) {
  MkdirsSync(c);
  LinkFdRange(c, 0, c.tree.leaves.size());
}

void RunThreads(const Ctx& c, RunStats*) {
  MkdirsSync(c);
  size_t n = std::max(1u, std::thread::hardware_concurrency()), total = c.tree.leaves.size();
  std::vector<std::thread> threads;
  for (size_t t = 0; t < n; ++t) {
    threads.emplace_back(LinkFdRange, std::cref(c), total * t / n, total * (t + 1) / n);
  }
  for (auto& th : threads) th.join();
}

int CountIowqWorkers() {
  int n = 0;
  for (const std::string& tid : SortedNames(Fd(::open("/proc/self/task", O_RDONLY)).get())) {
    std::ifstream comm("/proc/self/task/" + tid + "/comm");
    std::string name;
    std::getline(comm, name);
    n += name.rfind("iou-wrk", 0) == 0;
  }
  return n;
}

// One io_uring. Items go through it `chunk` SQEs per submit. Unpipelined,
// each chunk is waited for whole before the next is prepared; pipelined
// (a ring of two chunks), chunk k+1 is prepared and submitted while chunk k
// runs, so user-space work (the fd modes' open and fstat) overlaps the
// kernel's links. done(k) runs once item k has completed, never before: an
// fd an SQE names must stay open until the SQE is done.
struct RingMode {
  unsigned chunk;  // SQEs per submit
  bool pipelined;
  bool async;  // IOSQE_ASYNC on every SQE
};

class Ring {
 public:
  explicit Ring(RingMode m) : chunk_(m.chunk), pipelined_(m.pipelined), async_(m.async) {
    int r = io_uring_queue_init(m.pipelined ? 2 * m.chunk : m.chunk, &ring_, 0);
    if (r < 0) Die("io_uring_queue_init", -r);
    // A thread's io-wq is made with its first ring, and its limit of bound
    // workers (min(entries, 4 x CPUs)) stays that ring's: set it for each,
    // so that no mode inherits a smaller ring's (the 1-entry probe's).
    unsigned limits[2] = {4 * std::max(1u, std::thread::hardware_concurrency()), 0};
    r = io_uring_register_iowq_max_workers(&ring_, limits);
    if (r < 0) Die("io_uring_register_iowq_max_workers", -r);
  }
  ~Ring() { io_uring_queue_exit(&ring_); }
  io_uring* raw() { return &ring_; }

  void Run(size_t n, const std::function<void(io_uring_sqe*, size_t)>& prep,
           const std::function<void(size_t)>& done, const char* what) {
    size_t next = 0, inflight = 0;
    while (next < n || inflight > 0) {
      size_t hi = std::min(n, next + chunk_);
      for (; next < hi; ++next, ++inflight) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        prep(sqe, next);
        io_uring_sqe_set_data64(sqe, next);
        if (async_) io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
      }
      size_t keep = pipelined_ && next < n ? chunk_ : 0;  // left running
      int r = io_uring_submit_and_wait(&ring_, static_cast<unsigned>(inflight - keep));
      if (r < 0) Die("io_uring_submit_and_wait", -r);
      inflight -= Reap(done, what);
    }
  }

 private:
  size_t Reap(const std::function<void(size_t)>& done, const char* what) {
    size_t seen = 0;
    io_uring_cqe* cqe;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
      if (cqe->res < 0)
        Die(std::string(what) + " item " + std::to_string(cqe->user_data), -cqe->res);
      done(cqe->user_data);
      io_uring_cqe_seen(&ring_, cqe);
      ++seen;
    }
    return seen;
  }

  io_uring ring_;
  unsigned chunk_;
  bool pipelined_, async_;
};

// One depth at a time: a directory's parent exists before it is submitted.
void MkdirsUring(const Ctx& c, Ring& ring) {
  for (const auto& level : c.tree.by_depth) {
    ring.Run(
        level.size(),
        [&](io_uring_sqe* sqe, size_t k) {
          io_uring_prep_mkdirat(sqe, c.dst, c.tree.dirs[level[k]].path.c_str(), 0755);
        },
        [](size_t) {}, "mkdirat");
  }
}

void RunUring(const Ctx& c, RingMode m, RunStats* stats) {
  Ring ring(m);
  MkdirsUring(c, ring);
  ring.Run(
      c.tree.leaves.size(),
      [&](io_uring_sqe* sqe, size_t k) {
        const std::string& p = c.tree.leaves[k].path;
        io_uring_prep_linkat(sqe, c.src, p.c_str(), c.dst, p.c_str(), 0);
      },
      [](size_t) {}, "linkat");
  stats->iowq_workers = CountIowqWorkers();
}

void RunUringFd(const Ctx& c, RingMode m, RunStats* stats) {
  Ring ring(m);
  MkdirsUring(c, ring);
  DirFds src(c.tree, c.src), dst(c.tree, c.dst);
  std::vector<int> fds(c.tree.leaves.size(), -1);
  ring.Run(
      c.tree.leaves.size(),
      [&](io_uring_sqe* sqe, size_t k) {
        const Leaf& l = c.tree.leaves[k];
        fds[k] = OpenChecked(src, l);
        io_uring_prep_linkat(sqe, fds[k], "", dst.Get(l.dir), l.name.c_str(), AT_EMPTY_PATH);
      },
      [&](size_t k) { ::close(fds[k]); }, "linkat AT_EMPTY_PATH");
  stats->iowq_workers = CountIowqWorkers();
}

struct Mode {
  std::string name;
  std::function<void(const Ctx&, RunStats*)> run;
};

std::vector<Mode> AllModes() {
  std::vector<Mode> m = {{"sync", RunSync}, {"sync-fd", RunSyncFd}, {"threads", RunThreads}};
  const RingMode rings[] = {
      {64, false, false}, {256, false, false}, {256, true, false}, {256, true, true}};
  for (bool fd : {false, true}) {
    for (RingMode r : rings) {
      std::string name = std::string(fd ? "uring-fd-" : "uring-") + (r.async ? "async-" : "") +
                         (r.pipelined ? "pipe-" : "") + std::to_string(r.chunk);
      m.push_back(
          {name, [=](const Ctx& c, RunStats* s) { fd ? RunUringFd(c, r, s) : RunUring(c, r, s); }});
    }
  }
  return m;
}

// Does this kernel's IORING_OP_LINKAT take AT_EMPTY_PATH (a link from an
// fd)? Tried once on a scratch file beside DEST; the answer is printed, and
// the uring-fd modes are left out when it is no.
bool EmptyPathAccepted(const std::string& parent, std::string* why) {
  std::string a = parent + "/.uring-probe-a", b = parent + "/.uring-probe-b";
  ::unlink(a.c_str());
  ::unlink(b.c_str());
  Fd f(::open(a.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
  Fd p(::open(a.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (f.get() < 0 || p.get() < 0) Die("create " + a);
  Ring ring({1, false, false});
  io_uring_sqe* sqe = io_uring_get_sqe(ring.raw());
  io_uring_prep_linkat(sqe, p.get(), "", AT_FDCWD, b.c_str(), AT_EMPTY_PATH);
  io_uring_cqe* cqe;
  int r = io_uring_submit_and_wait(ring.raw(), 1);
  if (r >= 0) r = io_uring_wait_cqe(ring.raw(), &cqe);
  if (r < 0) Die("io_uring_submit_and_wait", -r);
  int res = cqe->res;
  io_uring_cqe_seen(ring.raw(), cqe);
  struct stat sa, sb;
  bool same = res == 0 && ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 &&
              sa.st_ino == sb.st_ino;
  ::unlink(a.c_str());
  ::unlink(b.c_str());
  *why = res < 0 ? std::string("refused: ") + std::strerror(-res)
         : same  ? "accepted (the new name is the fd's inode)"
                 : "completed, wrong inode";
  return same;
}

double Ms(const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; }

// RUSAGE_SELF counts every thread of the process, io-wq workers included
// (they are threads of it, CLONE_THREAD); RUSAGE_THREAD only the caller. The
// difference is what other threads did: a check that io-wq time is counted.
double CpuMs(int who) {
  struct rusage ru = {};
  ::getrusage(who, &ru);
  return Ms(ru.ru_utime) + Ms(ru.ru_stime);
}

struct Sample {
  double wall_ms, cpu_ms, thread_cpu_ms;
  int iowq_workers;
};

Sample TimeOne(const Mode& m, const Ctx& c) {
  RunStats stats;
  double cpu0 = CpuMs(RUSAGE_SELF), tcpu0 = CpuMs(RUSAGE_THREAD);
  auto t0 = std::chrono::steady_clock::now();
  m.run(c, &stats);
  auto t1 = std::chrono::steady_clock::now();
  return {std::chrono::duration<double, std::milli>(t1 - t0).count(), CpuMs(RUSAGE_SELF) - cpu0,
          CpuMs(RUSAGE_THREAD) - tcpu0, stats.iowq_workers};
}

void RemoveTree(const std::string& path) {
  const char* argv[] = {"rm", "-rf", "--", path.c_str(), nullptr};
  pid_t pid;
  if (::posix_spawnp(&pid, "rm", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    Die("spawn rm");
  }
  int status;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    Fail("rm -rf " + path);
  }
}

// An empty DEST, and the removal of the last one written back first, so
// that no run pays for the previous one's writeback.
Fd FreshDest(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) Die("mkdir " + path);
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::syncfs(fd.get()) != 0) Die("open " + path);
  return fd;
}

void Verify(const Tree& want, const std::string& dest, const std::string& mode) {
  Tree got = Walk(dest);
  auto fail = [&](const std::string& what) {
    Fail(mode + " left a different destination: " + what);
  };
  if (got.dirs.size() != want.dirs.size() || got.leaves.size() != want.leaves.size()) {
    fail(std::to_string(got.dirs.size()) + " directories and " + std::to_string(got.leaves.size()) +
         " files, not " + std::to_string(want.dirs.size()) + " and " +
         std::to_string(want.leaves.size()));
  }
  for (size_t i = 0; i < want.dirs.size(); ++i) {
    if (got.dirs[i].path != want.dirs[i].path) fail("directory " + got.dirs[i].path);
  }
  for (size_t i = 0; i < want.leaves.size(); ++i) {
    const Leaf &g = got.leaves[i], &w = want.leaves[i];
    if (g.path != w.path || g.ino != w.ino || g.symlink != w.symlink) {
      fail(g.path + " is not a link of the image's " + w.path);
    }
  }
}

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Args {
  int rounds = 5;
  std::string modes, once, image, dest;
};

Args Parse(int argc, char** argv) {
  Args a;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if ((s == "--rounds" || s == "--modes" || s == "--once") && i + 1 < argc) {
      std::string v = argv[++i];
      if (s == "--rounds") a.rounds = std::max(1, std::atoi(v.c_str()));
      if (s == "--modes") a.modes = v;
      if (s == "--once") a.once = v;
    } else {
      pos.push_back(s);
    }
  }
  if (pos.size() != 2) {
    std::fprintf(stderr,
                 "usage: nsbuild_uring_link_probe [--rounds N] [--modes a,b,...] IMAGE DEST\n"
                 "       nsbuild_uring_link_probe --once MODE IMAGE DEST\n");
    std::exit(2);
  }
  a.image = pos[0];
  a.dest = pos[1];
  return a;
}

// The modes asked for (all by default), in the order given.
std::vector<Mode> Select(const std::string& list, bool empty_path) {
  std::vector<Mode> all = AllModes(), out;
  std::stringstream ss(list);
  std::vector<std::string> names;
  for (std::string n; std::getline(ss, n, ',');) names.push_back(n);
  if (names.empty()) {
    for (const Mode& m : all) names.push_back(m.name);
  }
  for (const std::string& n : names) {
    auto it = std::find_if(all.begin(), all.end(), [&](const Mode& m) { return m.name == n; });
    if (n == "walk") {
      out.push_back({"walk", [](const Ctx&, RunStats*) {}});
    } else if (it == all.end()) {
      Fail("no mode " + n);
    } else if (it->name.rfind("uring-fd", 0) == 0 && !empty_path) {
      std::printf("%s left out: IORING_OP_LINKAT does not take AT_EMPTY_PATH here\n", n.c_str());
    } else {
      out.push_back(*it);
    }
  }
  return out;
}

void Report(const std::vector<Mode>& modes, const std::map<std::string, std::vector<Sample>>& runs,
            size_t files) {
  std::printf("%-23s %9s %8s %6s %9s %11s %6s  %s\n", "mode", "median ms", "us/file", "ratio",
              "cpu ms", "cpu ms main", "io-wq", "runs (ms)");
  double base = 0;
  for (const Mode& m : modes) {
    std::vector<double> wall, cpu, tcpu;
    int workers = 0;
    for (const Sample& s : runs.at(m.name)) {
      wall.push_back(s.wall_ms);
      cpu.push_back(s.cpu_ms);
      tcpu.push_back(s.thread_cpu_ms);
      workers = std::max(workers, s.iowq_workers);
    }
    double med = Median(wall);
    if (m.name == "sync") base = med;
    std::string all;
    for (double w : wall)
      all += (all.empty() ? "" : " ") + std::to_string(static_cast<int>(w + 0.5));
    std::printf("%-23s %9.1f %8.2f %6s %9.1f %11.1f %6d  %s\n", m.name.c_str(), med,
                med * 1000 / static_cast<double>(files),
                base > 0 ? std::to_string(med / base).substr(0, 4).c_str() : "-", Median(cpu),
                Median(tcpu), workers, all.c_str());
  }
}

void Preflight(const Args& a) {
  if (::geteuid() != 0)
    Fail("run as root: a link from an fd (AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH");
  std::string parent = a.dest.substr(0, a.dest.find_last_of('/') + 1);
  struct stat si, sp, sd;
  if (::stat(a.image.c_str(), &si) != 0) Die(a.image);
  if (::stat(parent.empty() ? "." : parent.c_str(), &sp) != 0) Die(parent);
  if (si.st_dev != sp.st_dev) Fail(a.dest + " is not on the filesystem of " + a.image);
  if (::lstat(a.dest.c_str(), &sd) == 0) Fail(a.dest + " exists (the probe makes and removes it)");
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;  // a batch keeps every directory open, twice
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int RunOnce(const Args& a, const Tree& t, int src, bool empty_path) {
  std::vector<Mode> m = Select(a.once, empty_path);
  if (m.size() != 1) Fail("--once takes one mode");
  Fd dst = FreshDest(a.dest);
  Sample s = TimeOne(m[0], {t, src, dst.get()});
  std::printf("%s: %.1f ms, cpu %.1f ms (this thread %.1f)\n", m[0].name.c_str(), s.wall_ms,
              s.cpu_ms, s.thread_cpu_ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  Preflight(a);
  Tree t = Walk(a.image);
  Fd src(::open(a.image.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (src.get() < 0) Die("open " + a.image);
  std::string why;
  bool empty_path = EmptyPathAccepted(a.dest.substr(0, a.dest.find_last_of('/') + 1) + ".", &why);
  if (!a.once.empty()) return RunOnce(a, t, src.get(), empty_path);

  struct utsname u;
  ::uname(&u);
  size_t symlinks =
      std::count_if(t.leaves.begin(), t.leaves.end(), [](const Leaf& l) { return l.symlink; });
  std::printf("image %s: %zu files (%zu of them symlinks), %zu directories; kernel %s, %u CPUs\n",
              a.image.c_str(), t.leaves.size(), symlinks, t.dirs.size() - 1, u.release,
              std::thread::hardware_concurrency());
  std::printf("IORING_OP_LINKAT with AT_EMPTY_PATH: %s\n", why.c_str());
  std::vector<Mode> modes = Select(a.modes, empty_path);
  std::printf("%d rounds, modes interleaved (order rotated each round)\nload average before: %s\n",
              a.rounds, LoadAverage().c_str());
  std::fflush(stdout);
  std::map<std::string, std::vector<Sample>> runs;
  for (int r = 0; r < a.rounds; ++r) {
    for (size_t i = 0; i < modes.size(); ++i) {
      const Mode& m = modes[(i + static_cast<size_t>(r)) % modes.size()];
      Fd dst = FreshDest(a.dest);
      runs[m.name].push_back(TimeOne(m, {t, src.get(), dst.get()}));
      Verify(t, a.dest, m.name);
      RemoveTree(a.dest);
    }
  }
  Report(modes, runs, t.leaves.size());
  std::printf(
      "cpu ms: RUSAGE_SELF, every thread of the process, io-wq workers included; cpu ms "
      "main: RUSAGE_THREAD, the submitting thread; io-wq: iou-wrk threads alive after a "
      "run (most seen)\n");
  std::printf("load average after: %s\n", LoadAverage().c_str());
  std::printf("every run's destination checked: the image's names, each a link of its inode\n");
  return 0;
}
