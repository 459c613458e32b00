// The escape suite's attack classes, written once. escape_test.cc runs each
// one two ways: as the command of `nsbuild run`, and as a phase of a recipe
// built by `nsbuild build` (whose sub-phases run in their own sandboxes and
// whose image then goes through the merger). tests/security/README.md maps
// every class to what stops it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nsbuild::testing {

// What the test holds and looks at outside the sandbox while one attack
// runs: listeners, sockets, a fake HOME, a hostname to compare.
class HostSide {
 public:
  virtual ~HostSide() = default;
  // Filled into the program as @NAME@ (ports, pids, paths).
  virtual std::map<std::string, std::string> Vars() { return {}; }
  // Added to nsbuild's own environment (what a careless caller leaks).
  virtual std::vector<std::string> Env() { return {}; }
  // Assertions from outside, after nsbuild returned.
  virtual void CheckAfter() {}
};

struct Attack {
  std::string name;     // the test's name
  bool python = false;  // python3 with the ctypes prelude, else /bin/sh
  // The program. @W@ is a directory the attacker may write that the host
  // can look at (run: a --bind, build: the image $D); other @NAME@s come
  // from the attack's HostSide.
  std::string program;
  std::string expected;          // its stdout: what the attacker saw
  std::string policy;            // a policy file's JSON; "" = the default policy
  double timeout = 0;            // seconds the sandbox may run; 0 = no limit
  bool ends_by_timeout = false;  // the attack never ends: the time limit must kill it
  // Build only: it leaves something in $D that the merger must refuse, so
  // the build fails with nothing merged.
  bool leaves_refused_image = false;
  // Build only: it writes outside the sub-phase's roots, which the build's
  // write watcher denies and reports, failing the build (default policy).
  bool writes_outside_roots = false;
  std::string root_only;  // non-empty: skipped when not root, with this reason
  std::function<std::unique_ptr<HostSide>()> host;  // optional
};

// Every attack class, in the README table's order.
const std::vector<Attack>& Attacks();

// The ctypes prelude of the Python attacks: raw syscalls printing errno names.
extern const char* const kAttackPrelude;

}  // namespace nsbuild::testing
