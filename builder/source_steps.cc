#include "builder/source_steps.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <sstream>

#include "base/dir_fd.h"
#include "base/escape.h"
#include "base/fs.h"
#include "builder/phase_request.h"
#include "builder/sandbox_runner.h"
#include "builder/status_printer.h"
#include "sandbox/sandbox.h"

namespace nsbuild::builder {
namespace {

using base::UniqueFd;

constexpr size_t kMaxSeriesBytes = 1 << 20;
constexpr const char* kInsideOut = "/nsbuild/src";

// The lexical rule of the recipe's "source" (recipe.cc) for a name a series
// gives: relative, and not out of the recipe's directory.
bool StaysBeneath(const std::string& rel) {
  std::filesystem::path p(rel);
  if (rel.empty() || p.is_absolute()) return false;
  std::filesystem::path n = p.lexically_normal();
  return !n.empty() && *n.begin() != "..";
}

base::Result<OpenPatch> OpenOne(int dir, const std::string& rel, int strip) {
  if (!StaysBeneath(rel))
    return base::PlainError("patch " + rel + ": must stay beneath the recipe's directory");
  auto fd = base::OpenBeneath(base::BorrowedFd(dir), rel, O_RDONLY | O_NONBLOCK);
  if (!fd.ok()) {
    return base::Wrap(fd.take_error(),
                      "patch " + rel + " (must lie beneath the recipe's directory, no symlinks)");
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode))
    return base::PlainError("patch " + rel + ": not a regular file");
  return OpenPatch{rel, strip, std::make_shared<UniqueFd>(std::move(*fd))};
}

// The sandbox every step runs in: the policy's view, WORK/source writable at
// /nsbuild/src, no network, cwd the source's root, output into `log`.
sandbox::RunRequest StepRequest(const WorkDir& work, const PreparedSource& src, int log) {
  sandbox::RunRequest req;
  sandbox::MountOp out;
  out.kind = sandbox::MountKind::kBind;
  out.source = work.source_dir();
  out.target = kInsideOut;
  req.mounts.push_back(out);
  req.cwd = kInsideOut + src.root.substr(work.source_dir().size());
  req.net = sandbox::NetMode::kNone;
  req.stdout_fd = req.stderr_fd = log;
  return req;
}

base::Status RunStep(const sandbox::Policy& policy, const sandbox::RunRequest& req,
                     const std::string& what, const std::string& log_path) {
  NSB_ASSIGN_OR_RETURN(sandbox::SandboxSpec spec, sandbox::PlanSandbox(policy, req));
  NSB_ASSIGN_OR_RETURN(sandbox::ExitInfo exit, sandbox::Run(spec));
  if (exit.ExitStatus() == 0) return {};
  std::string why = exit.setup_failure ? exit.setup_failure->Message()
                                       : "exit status " + std::to_string(exit.ExitStatus());
  return base::PlainError(what + ": " + why + "\n" + LogTail(log_path, 10) +
                          "full log: " + log_path);
}

base::Result<UniqueFd> OpenLog(const WorkDir& work, const char* name) {
  UniqueFd log(
      ::openat(work.logs_fd(), name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!log) return base::ErrnoError("open " + work.logs_dir() + "/" + name);
  return log;
}

base::Status ApplyPatches(const std::vector<OpenPatch>& patches, const PreparedSource& src,
                          const WorkDir& work, const sandbox::Policy& policy) {
  if (patches.empty()) return {};
  NSB_ASSIGN_OR_RETURN(UniqueFd log, OpenLog(work, "patch.log"));
  for (const auto& p : patches) {
    (void)base::WriteAll(base::BorrowedFd(log.get()), "== " + p.name + "\n");
    // From the start, whichever build of a set used the descriptor before.
    UniqueFd in(::open(base::ProcFdPath(p.fd->get()).c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) return base::ErrnoError("reopen patch " + p.name);
    sandbox::RunRequest req = StepRequest(work, src, log.get());
    req.argv = {"/usr/bin/patch", "-p" + std::to_string(p.strip), "--batch", "--forward",
                "--no-backup-if-mismatch"};
    req.stdin_fd = in.get();
    NSB_TRY(RunStep(policy, req, "patch " + p.name + " does not apply",
                    work.logs_dir() + "/patch.log"));
  }
  return {};
}

// A series is the recipe author's: at most kMaxSeriesBytes of it.
base::Result<std::string> ReadSeries(const OpenPatch& series) {
  std::string text(kMaxSeriesBytes + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n =
        ::pread(series.fd->get(), text.data() + got, text.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::ErrnoError("read series " + series.name);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > kMaxSeriesBytes)
    return base::PlainError("series " + series.name + ": longer than 1 MiB");
  text.resize(got);
  return text;
}

}  // namespace

std::vector<std::pair<std::string, int>> ParseSeries(const std::string& text) {
  std::vector<std::pair<std::string, int>> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string name, opt;
    if (!(words >> name)) continue;
    int strip = 1;
    if (words >> opt && opt.size() > 2 && opt.rfind("-p", 0) == 0 &&
        opt.find_first_not_of("0123456789", 2) == std::string::npos) {
      strip = std::stoi(opt.substr(2, 3));
    }
    out.emplace_back(name, strip);
  }
  return out;
}

base::Result<std::vector<OpenPatch>> OpenPatches(const Recipe& recipe) {
  std::vector<OpenPatch> out;
  if (recipe.patches.empty()) return out;
  UniqueFd dir(::open(recipe.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return base::ErrnoError("recipe directory " + recipe.dir);
  for (const auto& rel : recipe.patches) {
    std::filesystem::path p(rel);
    if (p.filename() != "series") {
      NSB_ASSIGN_OR_RETURN(OpenPatch one, OpenOne(dir.get(), rel, 1));
      out.push_back(std::move(one));
      continue;
    }
    NSB_ASSIGN_OR_RETURN(OpenPatch series, OpenOne(dir.get(), rel, 0));
    NSB_ASSIGN_OR_RETURN(std::string text, ReadSeries(series));
    for (const auto& [name, strip] : ParseSeries(text)) {
      std::string at = (p.parent_path() / name).lexically_normal().string();
      NSB_ASSIGN_OR_RETURN(OpenPatch one, OpenOne(dir.get(), at, strip));
      out.push_back(std::move(one));
    }
  }
  return out;
}

std::string DescribeSourceSteps(const Recipe& r) {
  std::string out;
  if (!r.source_sha256.empty())
    out += "[source] " + base::EscapeLine(r.source) + " sha256 " + r.source_sha256 + "\n";
  for (const auto& p : r.patches) out += "[patch] " + base::EscapeLine(p) + "\n";
  if (!r.prepare.empty()) out += "[prepare]\n    /bin/sh -c " + r.prepare + "\n";
  return out;
}

base::Status PrepareOnce(const Recipe& recipe, const std::vector<OpenPatch>& patches,
                         const PreparedSource& src, const WorkDir& work,
                         const sandbox::Policy& policy, int64_t source_date_epoch, int jobs) {
  NSB_TRY(ApplyPatches(patches, src, work, policy));
  if (recipe.prepare.empty()) return {};
  NSB_ASSIGN_OR_RETURN(UniqueFd log, OpenLog(work, "prepare.log"));
  sandbox::RunRequest req = StepRequest(work, src, log.get());
  req.argv = {"/bin/sh", "-c", recipe.prepare};
  req.setenv = recipe.env;
  EnvList standard = {{"S", req.cwd},
                      {"PYTHON", "/usr/bin/python3"},
                      {"T", "/tmp"},
                      {"TMPDIR", "/tmp"},
                      {"HOME", "/tmp"},
                      {"JOBS", std::to_string(jobs)},
                      {"SOURCE_DATE_EPOCH", std::to_string(source_date_epoch)},
                      {"PATH", kPhasePath}};
  req.setenv.insert(req.setenv.end(), standard.begin(), standard.end());
  return RunStep(policy, req, "prepare", work.logs_dir() + "/prepare.log");
}

}  // namespace nsbuild::builder
