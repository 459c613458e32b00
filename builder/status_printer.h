// What a person sees while a build runs. An interface, so the scheduler does
// not know about terminals: a live ninja-like line on a TTY, plain lines
// otherwise; -v streams each sub-phase's output, -q shows only errors.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "builder/plan.h"
#include "builder/results.h"

namespace nsbuild::builder {

class StatusPrinter {
 public:
  virtual ~StatusPrinter() = default;
  virtual void RunStarted(const Plan& plan, int jobs) = 0;
  virtual void NodeStarted(const SubPhase& node) = 0;
  virtual void NodeOutput(const SubPhase& node, std::string_view text) = 0;
  virtual void NodeFinished(const SubPhase& node, const NodeResult& result) = 0;
  // Called a few times a second while anything runs: refresh a live line.
  virtual void Tick() = 0;
  virtual void RunFinished(const RunSummary& summary) = 0;
};

// verbosity: <0 errors only, 0 normal, >0 stream output. `tty` picks the
// live line; `out` is where it all goes (stderr normally).
std::unique_ptr<StatusPrinter> MakeStatusPrinter(int verbosity, bool tty, std::FILE* out);

// Whether `fd` is a terminal that understands the live status line's
// carriage return and erase-line: a tty whose TERM is set and not "dumb"
// (Emacs shells, CI logs and serial consoles get the plain line printer).
bool IsSmartTerminal(int fd);

// A printer that prints nothing nothing (tests, and callers that print themselves).
class NullStatusPrinter : public StatusPrinter {
 public:
  void RunStarted(const Plan&, int) override {}
  void NodeStarted(const SubPhase&) override {}
  void NodeOutput(const SubPhase&, std::string_view) override {}
  void NodeFinished(const SubPhase&, const NodeResult&) override {}
  void Tick() override {}
  void RunFinished(const RunSummary&) override {}
};

// The last `lines` lines of a log file, for failure messages: read from the
// end (at most kLogTailBytes, never the whole file), without following a
// symlink or blocking on a fifo, control bytes and invalid UTF-8 escaped
// (base/escape.h). "" when the log cannot be read as a regular file.
inline constexpr size_t kLogTailBytes = 8192;
std::string LogTail(const std::string& path, int lines);

}  // namespace nsbuild::builder
