#include "builder/status_printer.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>

#include "base/clock.h"
#include "base/escape.h"
#include "base/fs.h"

namespace nsbuild::builder {
namespace {

double Seconds() { return base::MonotonicSeconds(); }

std::string Fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Shared by both printers: counting, per-node line buffering for -v, and
// the failure report with the log's last lines.
class BasePrinter : public StatusPrinter {
 public:
  BasePrinter(int verbosity, std::FILE* out) : verbosity_(verbosity), out_(out) {}

  void RunStarted(const Plan& plan, int jobs) override {
    plan_ = &plan;
    total_ = plan.nodes.size();
    if (verbosity_ >= 0) {
      Print("building " + std::to_string(plan.targets.size()) + " target(s), " +
            std::to_string(total_) + " sub-phase(s), -j" + std::to_string(jobs) + "\n");
    }
  }

  void NodeStarted(const SubPhase& node) override { started_[node.id] = Seconds(); }

  void NodeOutput(const SubPhase& node, std::string_view text) override {
    if (verbosity_ <= 0) return;
    std::string& buf = partial_[node.id];
    buf.append(text);
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      PrintOutputLine(node, std::string_view(buf).substr(0, nl));
      buf.erase(0, nl + 1);
    }
    // A sandbox that never ends its line must not grow us: print what we have.
    if (buf.size() >= kMaxPartialLine) {
      PrintOutputLine(node, buf);
      buf.clear();
    }
  }

  void NodeFinished(const SubPhase& node, const NodeResult& res) override {
    started_.erase(node.id);
    ++finished_;
    auto it = partial_.find(node.id);
    if (it != partial_.end() && !it->second.empty()) PrintOutputLine(node, it->second);
    if (it != partial_.end()) partial_.erase(it);
    if (res.state == NodeState::kFailed) {
      ReportFailure(node, res);
    } else if (verbosity_ >= 0 && res.state == NodeState::kSucceeded) {
      Print(Counter() + " " + plan_->NameOf(node) + " ok (" + Fixed1(res.end - res.start) + "s)\n");
    }
  }

  void RunFinished(const RunSummary& s) override {
    int count[6] = {};
    for (const auto& n : s.nodes) ++count[static_cast<int>(n.state)];
    std::string line = std::to_string(count[static_cast<int>(NodeState::kSucceeded)]) + " ok";
    if (int f = count[static_cast<int>(NodeState::kFailed)])
      line += ", " + std::to_string(f) + " failed";
    if (int k = count[static_cast<int>(NodeState::kSkipped)])
      line += ", " + std::to_string(k) + " skipped";
    if (int t = count[static_cast<int>(NodeState::kStopped)])
      line += ", " + std::to_string(t) + " stopped";
    if (int w = count[static_cast<int>(NodeState::kWaiting)])
      line += ", " + std::to_string(w) + " not run";
    if (verbosity_ >= 0 || !s.AllSucceeded()) {
      // Tokens are what was asked for; the counted processes are what ran.
      std::string counted = s.peak_processes < 0
                                ? ""
                                : " (counted: peak " + std::to_string(s.peak_compilers) +
                                      " compiler(s), " + std::to_string(s.peak_processes) +
                                      " process(es))";
      Print("sub-phases: " + line + " in " + Fixed1(s.wall_seconds) + "s; peak jobs " +
            std::to_string(s.peak_tokens_in_use) + "/" + std::to_string(s.jobs) + " tokens" +
            counted + "\n");
    }
  }

 protected:
  // Every permanent line goes through here, so the TTY printer can clear
  // its live line first.
  virtual void Print(const std::string& text) {
    std::fputs(text.c_str(), out_);
    std::fflush(out_);
  }
  // One line of a sandbox's output, escaped (base/escape.h): it cannot move
  // the cursor, set a title or forge a line of ours.
  void PrintOutputLine(const SubPhase& node, std::string_view line) {
    Print(plan_->NameOf(node) + "| " + base::EscapeLine(line) + "\n");
  }
  static constexpr size_t kMaxPartialLine = 4096;

  std::string Counter() const {
    return "[" + std::to_string(finished_) + "/" + std::to_string(total_) + "]";
  }

  void ReportFailure(const SubPhase& node, const NodeResult& res) {
    std::string msg = "FAILED " + plan_->NameOf(node) + ": " + base::EscapeLine(res.error) + "\n";
    // Ours (diagnose.h), already escaped where they quote the sandbox.
    for (const auto& d : res.diagnosis) msg += "  " + d + "\n";
    if (!res.log_path.empty()) {
      // With -v the output was already streamed; otherwise show its end,
      // each line marked as the sandbox's like streamed output is, so none
      // can pass for one of ours.
      if (verbosity_ <= 0) {
        std::string tail = LogTail(res.log_path, 20);
        size_t start = 0;
        while (start < tail.size()) {
          size_t nl = tail.find('\n', start);
          if (nl == std::string::npos) nl = tail.size();
          msg += plan_->NameOf(node) + "| " + tail.substr(start, nl - start) + "\n";
          start = nl + 1;
        }
      }
      msg += "full log: " + res.log_path + "\n";
    }
    Print(msg);
  }

  int verbosity_;
  std::FILE* out_;
  const Plan* plan_ = nullptr;
  size_t total_ = 0, finished_ = 0;
  std::map<size_t, double> started_;  // running nodes → start time
  std::map<size_t, std::string> partial_;
};

class PlainStatus : public BasePrinter {
 public:
  using BasePrinter::BasePrinter;
  void NodeStarted(const SubPhase& node) override {
    BasePrinter::NodeStarted(node);
    if (verbosity_ >= 0) Print(Counter() + " " + plan_->NameOf(node) + " started\n");
  }
  void Tick() override {}
};

// One live line, rewritten in place: progress, then each running sub-phase
// with its elapsed time, cut to the terminal's width.
class TtyStatus : public BasePrinter {
 public:
  using BasePrinter::BasePrinter;
  void Tick() override {
    if (verbosity_ < 0 || !plan_) return;
    double now = Seconds();
    // The loop wakes on every chunk of output; redraw at most ten times a second.
    if (now - last_draw_ < 0.1) return;
    last_draw_ = now;
    std::string line = Counter();
    for (const auto& [id, t] : started_) {
      line += " " + plan_->NameOf(plan_->nodes[id]) + " " + Fixed1(now - t) + "s";
    }
    size_t width = Width();
    if (line.size() > width) line = line.substr(0, width - 3) + "...";
    std::fputs(("\r\x1b[K" + line).c_str(), out_);
    std::fflush(out_);
    live_ = true;
  }
  void RunFinished(const RunSummary& s) override {
    Clear();
    BasePrinter::RunFinished(s);
  }

 protected:
  void Print(const std::string& text) override {
    Clear();
    BasePrinter::Print(text);
  }

 private:
  void Clear() {
    if (live_) std::fputs("\r\x1b[K", out_);
    live_ = false;
  }
  size_t Width() const {
    winsize ws{};
    if (::ioctl(::fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col - 1;
    return 79;
  }
  bool live_ = false;
  double last_draw_ = 0;
};

}  // namespace

bool IsSmartTerminal(int fd) {
  const char* term = std::getenv("TERM");
  return ::isatty(fd) == 1 && term != nullptr && *term != '\0' && std::strcmp(term, "dumb") != 0;
}

std::unique_ptr<StatusPrinter> MakeStatusPrinter(int verbosity, bool tty, std::FILE* out) {
  if (tty) return std::make_unique<TtyStatus>(verbosity, out);
  return std::make_unique<PlainStatus>(verbosity, out);
}

std::string LogTail(const std::string& path, int lines) {
  // The log holds what a sandbox printed: it may be huge, its lines may be
  // long, and it may carry escape sequences. Read only its end, from the end.
  bool truncated = false;
  auto text = base::ReadTail(base::BorrowedFd(AT_FDCWD), path, kLogTailBytes, &truncated);
  if (!text.ok()) return "";
  std::string_view t = *text;
  // A tail that starts mid-line shows that line from where it was cut.
  size_t pos = t.size();
  if (pos > 0 && t[pos - 1] == '\n') --pos;
  for (int n = 0; n < lines && pos > 0; ++n) {
    size_t nl = t.rfind('\n', pos - 1);
    if (nl == std::string_view::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  std::string_view kept = pos == 0 && t.substr(0, 1) != "\n" ? t : t.substr(pos + 1);
  return (truncated && pos == 0 ? "..." : "") + base::EscapeText(kept);
}

}  // namespace nsbuild::builder
