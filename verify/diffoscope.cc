#include "verify/diffoscope.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "base/dir_fd.h"
#include "base/unique_fd.h"
#include "builder/sandbox_runner.h"
#include "sandbox/sandbox.h"
#include "verify/find_program.h"

namespace nsbuild::verify {
namespace {

constexpr const char* kInsideA = "/nsbuild/a";
constexpr const char* kInsideB = "/nsbuild/b";
constexpr const char* kInsideOut = "/nsbuild/out";

// Arguments come in pairs, report name then path, so no path is ever part
// of the script's text. Exit 1 means "different": only the reports matter.
constexpr const char* kScript =
    "while [ $# -gt 1 ]; do\n"
    "  diffoscope --no-progress --exclude-directory-metadata=yes --text \"/nsbuild/out/$1.txt\" "
    "--html \"/nsbuild/out/$1.html\" \"/nsbuild/a/$2\" \"/nsbuild/b/$2\"\n"
    "  shift 2\n"
    "done\n";

// "3-libfoo.so": numbered, so two files of one name do not collide. The
// name comes from an image (the build's choice): only letters, digits and
// . _ + - are kept, at most 64 of them, so it is one harmless file name.
std::string ReportName(size_t index, const std::string& path) {
  std::string base = path.substr(path.rfind('/') + 1), safe;
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '-';
    if (safe.size() < 64) safe += ok ? c : '_';
  }
  return std::to_string(index + 1) + "-" + safe;
}

// A non-empty regular file at `rel` beneath `root` (opened as a directory),
// found without following any symlink.
bool IsFileBeneath(int root, const std::string& rel) {
  if (root < 0) return false;
  auto fd = base::OpenBeneath(base::BorrowedFd(root), rel, O_PATH);
  struct stat st;
  return fd.ok() && ::fstat(fd->get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

base::UniqueFd OpenRoot(const std::string& path) {
  return base::UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

sandbox::RunRequest MakeRequest(const DiffoscopeRequest& r, const std::vector<std::string>& args,
                                int log) {
  sandbox::RunRequest req;
  req.argv = {"/bin/sh", "-c", kScript, "diffoscope-files"};
  req.argv.insert(req.argv.end(), args.begin(), args.end());
  const std::pair<std::string, const char*> ro[] = {{r.a_root, kInsideA}, {r.b_root, kInsideB}};
  for (const auto& [host, inside] : ro) {
    sandbox::MountOp m;
    m.kind = sandbox::MountKind::kRoBind;
    m.source = host;
    m.target = inside;
    m.noexec = true;
    req.mounts.push_back(m);
  }
  sandbox::MountOp out;
  out.kind = sandbox::MountKind::kBind;
  out.source = r.out_dir;
  out.target = kInsideOut;
  out.noexec = true;
  req.mounts.push_back(out);
  req.net = sandbox::NetMode::kNone;
  req.setenv = {
      {"PATH", "/usr/bin:/bin"}, {"HOME", "/tmp"}, {"LC_ALL", "C.UTF-8"}, {"TMPDIR", "/tmp"}};
  req.cwd = kInsideOut;
  req.stdout_fd = req.stderr_fd = log;
  req.timeout_seconds = r.timeout_seconds;
  return req;
}

}  // namespace

std::string DiffoscopeUnavailable() {
  return FindProgram("diffoscope").empty()
             ? "diffoscope is not installed (Debian: diffoscope-minimal)"
             : "";
}

base::Result<std::map<std::string, DiffoscopeOutput>> RunDiffoscope(const DiffoscopeRequest& r) {
  std::map<std::string, DiffoscopeOutput> out;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> names;  // path, report name
  base::UniqueFd a = OpenRoot(r.a_root), b = OpenRoot(r.b_root);
  for (const auto& p : r.paths) {
    if (names.size() == kDiffoscopeMaxFiles) break;
    if (!IsFileBeneath(a.get(), p) || !IsFileBeneath(b.get(), p)) continue;
    names.emplace_back(p, ReportName(names.size(), p));
    args.insert(args.end(), {names.back().second, p});
  }
  if (names.empty()) return out;
  if (r.out_parent_fd < 0) return base::PlainError("diffoscope: no output directory");
  std::string name = r.out_dir.substr(r.out_dir.rfind('/') + 1);
  base::BorrowedFd parent(r.out_parent_fd);
  NSB_ASSIGN_OR_RETURN(base::UniqueFd out_fd, base::MakeFreshDirAt(parent, name, 0755));
  NSB_ASSIGN_OR_RETURN(auto ids, builder::MappedHostIds(*r.policy));
  if (::fchown(out_fd.get(), ids.first, ids.second) != 0)
    return base::ErrnoError("chown " + r.out_dir);
  std::string log_path = r.out_dir + ".log";
  base::UniqueFd log(::openat(r.out_parent_fd, (name + ".log").c_str(),
                              O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!log) return base::ErrnoError("open " + log_path);
  NSB_ASSIGN_OR_RETURN(sandbox::SandboxSpec spec,
                       sandbox::PlanSandbox(*r.policy, MakeRequest(r, args, log.get())));
  NSB_ASSIGN_OR_RETURN(sandbox::ExitInfo exit, sandbox::Run(spec));
  if (exit.setup_failure)
    return base::PlainError("diffoscope sandbox: " + exit.setup_failure->Message());
  for (const auto& [path, name] : names) {
    DiffoscopeOutput o{r.out_dir + "/" + name + ".txt", r.out_dir + "/" + name + ".html"};
    // The sandbox wrote there: looked at through the directory's fd only.
    if (IsFileBeneath(out_fd.get(), name + ".txt") || IsFileBeneath(out_fd.get(), name + ".html"))
      out[path] = o;
  }
  if (exit.timed_out) {
    std::fprintf(stderr,
                 "nsbuild verify: diffoscope stopped after %ds; the reports it finished are kept "
                 "(log: %s)\n",
                 static_cast<int>(r.timeout_seconds), log_path.c_str());
  }
  return out;
}

}  // namespace nsbuild::verify
