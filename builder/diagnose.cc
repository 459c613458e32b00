#include "builder/diagnose.h"

#include <signal.h>
#include <string.h>
#include <sys/statvfs.h>

#include <cctype>
#include <cstring>

#include "base/escape.h"
#include "builder/inside_layout.h"
#include "builder/status_printer.h"

namespace nsbuild::builder {
namespace {

constexpr std::string_view kArrayPrefix = "set -e\n";
constexpr std::string_view kMarker = "nsbuild: failed at line ";

// The trap prints the marker only when the script fails; $? of the EXIT
// trap is the script's own, and the shell exits with it after the trap.
constexpr const char* kTrap =
    "trap '__nsb_rc=$?; [ \"$__nsb_rc\" -eq 0 ] || echo \"nsbuild: failed at line "
    "${__nsb_line:-0} (exit status $__nsb_rc)\" >&2' EXIT; ";

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t nl = s.find('\n', start);
    out.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) return out;
    start = nl + 1;
  }
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::string FirstWord(const std::string& line) {
  std::string t = Trim(line);
  size_t end = t.find_first_of(" \t;");
  return t.substr(0, end);
}

// What the shell's parser carries from one line to the next, as far as a
// marker's safety goes. Deliberately rough: when in doubt, a line stays
// unmarked and the trap names the last marked line before it.
struct ScanState {
  char quote = 0;                                      // ' or " open across lines
  int parens = 0;                                      // ( and $( open across lines
  int cases = 0;                                       // case ... esac open
  std::vector<std::pair<std::string, bool>> heredocs;  // terminator, <<- (tabs stripped)
  bool joined = false;                                 // the previous line continues into this one
};

// A here-document's terminator word after "<<" at `i` (quotes removed).
std::string HeredocWord(const std::string& line, size_t* i, bool* dash) {
  *dash = *i < line.size() && line[*i] == '-';
  if (*dash) ++*i;
  while (*i < line.size() && (line[*i] == ' ' || line[*i] == '\t')) ++*i;
  std::string word;
  while (*i < line.size() && !std::strchr(" \t;|&<>()", line[*i])) {
    if (line[*i] != '\'' && line[*i] != '"' && line[*i] != '\\') word += line[*i];
    ++*i;
  }
  return word;
}

// `case` opens only where a command starts (not as `echo case`); a
// reserved word keeps the next word in command position.
void CountWord(const std::string& word, bool* command_position, ScanState& s) {
  if (word.empty()) return;
  if (word == "case" && *command_position) ++s.cases;
  if (word == "esac" && s.cases > 0) --s.cases;
  static const char* const kReserved[] = {"then",  "do", "else", "elif", "if",  "while",
                                          "until", "!",  "{",    "}",    "time"};
  bool reserved = false;
  for (const char* r : kReserved) reserved = reserved || word == r;
  *command_position = reserved;
}

// Moves `s` past one line that is not a here-document's body.
void ScanLine(const std::string& line, ScanState& s) {
  std::string word;
  bool word_start = true, command_position = true;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (s.quote == '\'') {
      if (c == '\'') s.quote = 0;
      continue;
    }
    if (c == '\\') {
      ++i;
      continue;
    }
    if (s.quote == '"') {
      if (c == '"') s.quote = 0;
      continue;
    }
    if (c == '#' && word_start) break;  // a comment to the end of the line
    bool sep = std::strchr(" \t;|&()<>", c) != nullptr;
    if (sep || c == '\'' || c == '"') {
      CountWord(word, &command_position, s);
      word.clear();
    }
    if (std::strchr(";|&()", c)) command_position = true;
    if (c == '\'' || c == '"') s.quote = c;
    if (c == '(') ++s.parens;
    if (c == ')' && s.parens > 0) --s.parens;
    if (c == '<' && i + 1 < line.size() && line[i + 1] == '<' &&
        (i + 2 >= line.size() || line[i + 2] != '<')) {
      i += 2;
      bool dash = false;
      std::string term = HeredocWord(line, &i, &dash);
      if (!term.empty()) s.heredocs.emplace_back(term, dash);
      --i;
      word_start = true;
      continue;
    }
    if (!sep && c != '\'' && c != '"') word += c;
    word_start = sep;
  }
  CountWord(word, &command_position, s);
  std::string t = Trim(line);
  // `f()` alone on its line: the body's `{` must come next, unmarked.
  s.joined = s.quote == 0 &&
             (t.ends_with("\\") || t.ends_with("|") || t.ends_with("&&") || t.ends_with("()"));
}

// A line a marker can precede on the same line: the parser is at the start
// of a command there, and the line does not read the previous $?.
bool Markable(const std::string& line, const ScanState& s) {
  if (s.quote || s.parens > 0 || s.cases > 0 || s.joined || !s.heredocs.empty()) return false;
  std::string t = Trim(line);
  if (t.empty() || t[0] == '#' || line.find("$?") != std::string::npos) return false;
  static const char* const kContinuing[] = {"then", "else", "elif", "fi", "do", "done", "esac",
                                            "}",    ")",    ";;",   "in", "&&", "||",   "|"};
  std::string w = FirstWord(line);
  for (const char* k : kContinuing) {
    if (w == k) return false;
  }
  return t[0] != ')' && t[0] != '}' && t[0] != '|' && t[0] != '&' && t[0] != ';';
}

// True while `line` is a here-document's body (the terminator included).
bool InHeredocBody(const std::string& line, ScanState& s) {
  if (s.heredocs.empty()) return false;
  auto [term, dash] = s.heredocs.front();
  std::string l = line;
  if (dash)
    l.erase(0,
            l.find_first_not_of('\t') == std::string::npos ? l.size() : l.find_first_not_of('\t'));
  if (l == term) s.heredocs.erase(s.heredocs.begin());
  return true;
}

// Less than 1 MiB left for the sandbox's (unprivileged) ids: the work dir's
// filesystem is full, whatever the log managed to say.
bool DiskFull(int dir_fd) {
  struct statvfs st = {};
  if (dir_fd < 0 || ::fstatvfs(dir_fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.f_bavail) * st.f_frsize < (1ULL << 20);
}

void Diagnose(const SubPhase& node, NodeResult& res, const FailureFacts& base, int logs_fd) {
  FailureFacts f = base;
  f.phase = node.PhaseName();
  f.log_tail = res.log_path.empty() ? "" : LogTail(res.log_path, 40);
  f.disk_full = DiskFull(logs_fd);
  if (std::string line = DescribeFailedLine(node.command, FailedLineOf(f.log_tail));
      !line.empty()) {
    res.diagnosis.push_back("failed at " + line);
  }
  if (!res.exit.signaled && !res.exit.setup_failure) {
    if (int sig = ShellChildSignal(res.exit.code)) {
      res.diagnosis.push_back("exit status " + std::to_string(res.exit.code) +
                              ": a process the phase ran was killed by " + SignalName(sig) +
                              " (signal " + std::to_string(sig) + ")");
    }
  }
  for (auto& h : FailureHints(f)) res.diagnosis.push_back(std::move(h));
  std::string install = InstallPrefixHint(f.phase, res.writes.violations);
  if (!install.empty()) res.diagnosis.push_back(install);
}

}  // namespace

std::string NumberedScript(const std::string& command) {
  if (command.find('\n') == std::string::npos) return command;
  int base = command.compare(0, kArrayPrefix.size(), kArrayPrefix) == 0 ? 0 : 1;
  std::vector<std::string> lines = SplitLines(command);
  std::string out;
  ScanState s;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    if (InHeredocBody(lines[i], s)) {
      out += lines[i];
      continue;
    }
    if (i == 0) out += kTrap;
    if (i == 0 || Markable(lines[i], s))
      out += "__nsb_line=" + std::to_string(static_cast<int>(i) + base) + "; ";
    out += lines[i];
    ScanLine(lines[i], s);
  }
  return out;
}

int FailedLineOf(std::string_view tail) {
  size_t at = tail.rfind(kMarker);
  if (at == std::string_view::npos) return 0;
  int n = 0;
  for (size_t i = at + kMarker.size(); i < tail.size() && std::isdigit(tail[i]); ++i) {
    if (n > 1000000) return 0;
    n = n * 10 + (tail[i] - '0');
  }
  return n;
}

std::string DescribeFailedLine(const std::string& command, int line) {
  if (line <= 0) return "";
  int base = command.compare(0, kArrayPrefix.size(), kArrayPrefix) == 0 ? 0 : 1;
  std::vector<std::string> lines = SplitLines(command);
  size_t index = static_cast<size_t>(line - base);
  if (index >= lines.size()) return "";
  return "line " + std::to_string(line) + ": " + base::EscapeLine(Trim(lines[index]));
}

int ShellChildSignal(int exit_status) {
  // 129..192: the shell's convention for a child killed by signal N. (125,
  // 126, 127 and 128 are the shell's own; anything above SIGRTMAX is a code.)
  if (exit_status > 128 && exit_status <= 128 + SIGRTMAX) return exit_status - 128;
  return 0;
}

std::string SignalName(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  if (abbrev) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(signal);
}

std::vector<std::string> FailureHints(const FailureFacts& f) {
  std::vector<std::string> out;
  auto has = [&](std::string_view s) { return f.log_tail.find(s) != std::string::npos; };
  if (f.disk_full || has("No space left on device")) {
    out.push_back(
        "No space left on device: the work dir's filesystem is full; free space there or "
        "give --work-dir on a larger filesystem");
  }
  if (f.noexec_writable && has("failed to map segment")) {
    out.push_back(
        "\"failed to map segment\": the policy mounts the writable dirs ($S, $BUILD_DIR, $D, $T) "
        "noexec, so a C extension built there cannot be loaded; run such tests under a policy "
        "without noexec_writable (e.g. --policy default)");
  }
  static const char* const kNetErrors[] = {"Temporary failure in name resolution",
                                           "Name or service not known",
                                           "Could not resolve host",
                                           "getaddrinfo failed",
                                           "Network is unreachable",
                                           "No route to host",
                                           "Failed to establish a new connection",
                                           "NewConnectionError",
                                           "No matching distribution found"};
  bool net = false;
  for (const char* e : kNetErrors) net = net || has(e);
  if (f.no_network && net) {
    out.push_back(
        "the sandbox has no network: nothing can be downloaded during a build; install the "
        "build dependencies on the host and build without isolation (pip --no-build-isolation, "
        "python -m build --no-isolation)");
  }
  return out;
}

std::string LogHeader(const std::string& target, const std::string& phase,
                      const std::string& command, const std::string& view) {
  std::string out = "nsbuild: implementation " + base::EscapeLine(target) + ", phase " +
                    base::EscapeLine(phase) + "\n";
  std::vector<std::string> lines = SplitLines(command);
  int base = command.compare(0, kArrayPrefix.size(), kArrayPrefix) == 0 ? 0 : 1;
  if (lines.size() == 1) {
    out += "nsbuild: command: /bin/sh -c " + base::EscapeLine(command) + "\n";
  } else {
    out += "nsbuild: command (/bin/sh -c, " + std::to_string(lines.size()) + " lines):\n";
    for (size_t i = 0; i < lines.size(); ++i) {
      out += "nsbuild: " + std::to_string(static_cast<int>(i) + base) + "| " +
             base::EscapeLine(lines[i]) + "\n";
    }
  }
  return out + "nsbuild: " + view + "\n";
}

std::string DescribeView(const sandbox::Policy& p, const std::vector<AddWrite>& addwrite) {
  std::string ro;
  for (const auto& m : p.ro_binds) ro += " " + m.target;
  std::string view = "view: read-only" + (ro.empty() ? std::string(" nothing") : ro);
  if (!p.hide.empty()) view += "; hidden:";
  for (const auto& h : p.hide) view += " " + h;
  const InsideLayout inside;  // the layout every build's sub-phases see
  view += "; writable: " + inside.Source() + " (overlay over the source) " + inside.Build() + " " +
          inside.Image() + " " + inside.Tmp() + " " + inside.Home();
  for (const auto& t : p.tmpfs) view += " " + t;
  for (const auto& a : addwrite) view += " " + a.path + " (addwrite)";
  if (p.noexec_writable) view += ", all noexec";
  static const char* const kNet[] = {"none", "loopback only", "host", "loopback + distcc"};
  view += "; network: " + std::string(kNet[static_cast<int>(p.net)]);
  view += "; uid " + std::to_string(p.inside_uid) + " inside";
  return base::EscapeLine(view);
}

std::string InstallPrefixHint(const std::string& phase,
                              const std::vector<sandbox::WriteViolation>& violations) {
  if (phase != "install") return "";
  for (const auto& v : violations) {
    for (const char* prefix : {"/usr/", "/opt/", "/etc/", "/var/"}) {
      if (v.path.rfind(prefix, 0) == 0) {
        return "install wrote under " + std::string(prefix) +
               " directly: install into $D instead (make install DESTDIR=$D, "
               "setup.py install --root=$D, python -m installer --destdir=$D); addwrite "
               "would only hide the files from the image";
      }
    }
  }
  return "";
}

std::string WriteViolationAdvice(const Plan& plan, const RunSummary& summary) {
  for (const auto& node : plan.nodes) {
    std::string hint =
        InstallPrefixHint(node.PhaseName(), summary.nodes[node.id].writes.violations);
    if (!hint.empty()) return hint;
  }
  return "allow a path with the recipe's \"addwrite\", or --on-write-violation warn";
}

void AddDiagnosis(SchedulerOptions& options, const Plan& plan, const sandbox::Policy& policy,
                  const Recipe& recipe) {
  std::string view = DescribeView(policy, recipe.addwrite);
  const Plan* p = &plan;
  options.log_header = [p, view](const SubPhase& node) {
    return LogHeader(p->targets[node.target], node.PhaseName(), node.command, view);
  };
  FailureFacts facts;
  facts.noexec_writable = policy.noexec_writable;
  facts.no_network = policy.net != sandbox::NetMode::kHost;
  int logs_fd = options.log_dir_fd;
  options.diagnose = [facts, logs_fd](const SubPhase& node, NodeResult& res) {
    Diagnose(node, res, facts, logs_fd);
  };
}

}  // namespace nsbuild::builder
