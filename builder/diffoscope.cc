#include "builder/diffoscope.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "base/unique_fd.h"
#include "builder/sandbox_runner.h"
#include "builder/status.h"
#include "builder/variation.h"
#include "sandbox/sandbox.h"

namespace nsbuild::builder {
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

// "3-libfoo.so": numbered, so two files of one name do not collide.
std::string ReportName(size_t index, const std::string& path) {
  return std::to_string(index + 1) + "-" + path.substr(path.rfind('/') + 1);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

sandbox::RunRequest MakeRequest(const DiffoscopeRequest& r, const std::vector<std::string>& args, int log) {
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
  req.setenv = {{"PATH", "/usr/bin:/bin"}, {"HOME", "/tmp"}, {"LC_ALL", "C.UTF-8"}, {"TMPDIR", "/tmp"}};
  req.cwd = kInsideOut;
  req.stdout_fd = req.stderr_fd = log;
  req.timeout_seconds = r.timeout_seconds;
  return req;
}

}  // namespace

std::string DiffoscopeUnavailable() {
  return FindProgram("diffoscope").empty() ? "diffoscope is not installed (Debian: diffoscope-minimal)" : "";
}

base::Result<std::map<std::string, DiffoscopeOutput>> RunDiffoscope(const DiffoscopeRequest& r) {
  std::map<std::string, DiffoscopeOutput> out;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> names;  // path, report name
  for (const auto& p : r.paths) {
    if (names.size() == kDiffoscopeMaxFiles) break;
    if (!IsFile(r.a_root + "/" + p) || !IsFile(r.b_root + "/" + p)) continue;
    names.emplace_back(p, ReportName(names.size(), p));
    args.insert(args.end(), {names.back().second, p});
  }
  if (names.empty()) return out;
  std::error_code ec;
  std::filesystem::create_directories(r.out_dir, ec);
  if (ec) return base::Error{ec.value(), "mkdir " + r.out_dir};
  NSB_ASSIGN_OR_RETURN(auto ids, MappedHostIds(*r.policy));
  if (::chown(r.out_dir.c_str(), ids.first, ids.second) != 0) return base::ErrnoError("chown " + r.out_dir);
  std::string log_path = r.out_dir + ".log";
  base::UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!log) return base::ErrnoError("open " + log_path);
  NSB_ASSIGN_OR_RETURN(sandbox::SandboxSpec spec, sandbox::PlanSandbox(*r.policy, MakeRequest(r, args, log.get())));
  NSB_ASSIGN_OR_RETURN(sandbox::ExitInfo exit, sandbox::Run(spec));
  if (exit.setup_failure) return base::PlainError("diffoscope sandbox: " + exit.setup_failure->Message());
  for (const auto& [path, name] : names) {
    DiffoscopeOutput o{r.out_dir + "/" + name + ".txt", r.out_dir + "/" + name + ".html"};
    if (IsFile(o.text) || IsFile(o.html)) out[path] = o;
  }
  if (exit.timed_out) {
    std::fprintf(stderr, "nsbuild verify: diffoscope stopped after %ds; the reports it finished are kept (log: %s)\n",
                 static_cast<int>(r.timeout_seconds), log_path.c_str());
  }
  return out;
}

}  // namespace nsbuild::builder
