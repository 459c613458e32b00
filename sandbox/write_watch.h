// Reporting writes outside the allowed roots (Gentoo's sandbox "ACCESS
// VIOLATION", but complete): a second seccomp filter sends every syscall that
// creates, opens for writing, truncates, removes, renames, links or changes
// the metadata of a path to nsbuild as a user notification. The watcher
// resolves the path as the process sees it; inside an allowed root the call
// continues, anywhere else it fails with EACCES and is recorded.
//
// The mount layout stays the security boundary; the watcher only reports.
// SECCOMP_USER_NOTIF_FLAG_CONTINUE is never a security decision: the process
// can change the path in its memory after we read it (TOCTOU), and the kernel
// then checks that path against the read-only mounts as usual. A call we let
// continue can thus never write where the mounts forbid; a call we deny could
// at worst have been harmless.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

// What one record keeps, and how many a watcher keeps: a build decides how
// many denied writes it makes and how long their paths and command lines
// are, so without bounds it would decide how much memory nsbuild uses.
// Past the count the violations are still denied and counted, not kept.
inline constexpr size_t kMaxViolationPathBytes = 1024;
inline constexpr size_t kMaxViolationCommandBytes = 512;
inline constexpr size_t kMaxViolationsKept = 256;

struct WriteViolation {
  std::string op;         // "open(O_WRONLY|O_CREAT)", "mkdir", "rename", ...
  std::string path;       // resolved as the process sees it
  pid_t pid = 0;          // host pid
  std::string command;    // the process's command line
  bool captured = false;  // capture mode: it succeeded into the capture dir
};

class WriteCapture;

class WriteWatcher {
 public:
  // allowed: inside paths under which writes go on (prefixes, normalised).
  explicit WriteWatcher(std::vector<std::string> allowed);

  // Handles one pending notification on notify_fd. False when the fd is done
  // (every watched process has exited).
  bool HandleOne(int notify_fd);

  // The first kMaxViolationsKept violations; the rest are only counted.
  const std::vector<WriteViolation>& violations() const { return violations_; }
  uint64_t violations_not_kept() const { return not_kept_; }
  uint64_t notifications() const { return notifications_; }
  bool IsAllowed(const std::string& inside_path) const;
  // Capture mode (write_capture.h): stray opens for writing succeed into
  // `capture` (not owned; must outlive the watcher's use) instead of
  // failing. They are still violations.
  void set_capture(WriteCapture* capture) { capture_ = capture; }

 private:
  // Keeps the violation, or counts it when kMaxViolationsKept are kept.
  WriteViolation* Record(const std::string& op, const std::vector<std::string>& paths, pid_t pid);

  std::vector<std::string> allowed_;
  size_t notif_size_;  // the kernel's struct seccomp_notif may outgrow our headers'
  std::vector<WriteViolation> violations_;
  uint64_t notifications_ = 0;
  uint64_t not_kept_ = 0;
  WriteCapture* capture_ = nullptr;
};

// The writable places of a plan (bind, tmpfs and overlay targets) plus the
// harmless device files: the allowed roots of `nsbuild run --report-writes`.
std::vector<std::string> WritableRoots(const SandboxSpec& spec);

// Lexical normalisation of an absolute path ("/a/./b/../c" → "/a/c").
std::string NormalisePath(const std::string& path);

// The Gentoo-style summary block of a list of violations, with "N more not
// kept" when the watcher dropped some. Paths and command lines come from the
// sandbox: they are escaped (base/escape.h), one line each.
std::string FormatViolations(const std::vector<WriteViolation>& v, const std::string& heading,
                             uint64_t not_kept = 0);

// `text` cut to at most `max` bytes, marked with "..." when cut.
std::string Clip(std::string text, size_t max);

}  // namespace nsbuild::sandbox
