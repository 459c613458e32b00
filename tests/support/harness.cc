#include "tests/support/harness.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "base/fs.h"
#include "base/subprocess.h"

extern char** environ;

namespace nsbuild::testing {

std::string NsbuildBin() {
  const char* env = std::getenv("NSBUILD_BIN");
  return env && *env ? env : NSBUILD_BIN;
}

std::string SourceDir() {
  const char* env = std::getenv("NSBUILD_SOURCE_DIR");
#ifdef NSBUILD_SOURCE_DIR
  return env && *env ? env : NSBUILD_SOURCE_DIR;
#else
  return env && *env ? env : ".";
#endif
}

namespace {

// Both pipes read as they fill, so neither can block the child.
void ReadBoth(int out_fd, int err_fd, CommandResult* r) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&r->out, &r->err};
  int open_count = 2;
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        fds[i].fd = -1;
        --open_count;
      } else {
        sinks[i]->append(buf, static_cast<size_t>(n));
      }
    }
  }
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env) {
  auto out = base::MakePipe(O_CLOEXEC);
  auto err = base::MakePipe(O_CLOEXEC);
  if (!out.ok() || !err.ok()) return {};
  base::SpawnOptions opts;
  opts.argv = argv;
  opts.search_path = true;
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  opts.env = std::move(env);
  opts.fds = {{0, base::kDevNull}, {1, out->write.get()}, {2, err->write.get()}};
  auto child = base::Subprocess::Spawn(opts);
  out->write.reset();
  err->write.reset();
  CommandResult r;
  if (!child.ok()) {
    r.status = 127;
    return r;
  }
  ReadBoth(out->read.get(), err->read.get(), &r);
  auto status = child->Wait();
  r.status = status.ok() ? base::ExitCodeOf(*status) : -1;
  return r;
}

CommandResult Nsbuild(const std::vector<std::string>& args) {
  std::vector<std::string> argv{NsbuildBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

}  // namespace nsbuild::testing
