// Parent side: the spec turned into the plain data the child reads
// (child/plan.h), and the storage that data points into. Built by Prepare()
// before clone and kept by the Sandbox until PID 1 is reaped: run by root,
// PID 1 shares nsbuild's memory and reads this very storage; run by a user,
// it reads its copy-on-write copy.
#pragma once

#include <linux/filter.h>
#include <netinet/in.h>

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "sandbox/child/plan.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

struct Prepared {
  // Owned storage the plan's pointers point into. Never resized once
  // Prepare() has returned; moving a Prepared keeps every heap buffer (and
  // so every pointer) where it is.
  std::vector<std::string> strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<child::Mount> mounts;
  std::vector<int> source_fds;  // one per mount, filled by the child
  std::vector<sock_filter> seccomp;
  std::vector<sock_filter> watch_filter;  // empty unless writes are watched
  std::vector<int> keep_fds;              // sorted: fds the command may inherit (pass_fds)
  std::vector<child::Rlimit> rlimits;
  std::vector<sockaddr_in> listen_addrs;  // network "distcc"
  // The Landlock ruleset the command enforces on itself (-1: none). The
  // parent owns it; plan.landlock_fd is its number.
  base::UniqueFd landlock_ruleset;

  // Stacks for the two clones: PID 1's (which lives as long as the sandbox)
  // and the command's vfork-style start. Untouched until used, so
  // allocating them costs no page faults.
  static constexpr size_t kStackSize = 256 * 1024;
  std::unique_ptr<char[]> init_stack;
  std::unique_ptr<char[]> command_stack;

  // What the child reads. The descriptor fields are filled by Sandbox::Start.
  child::Plan plan = {};
};

base::Result<Prepared> Prepare(const SandboxSpec& spec);

}  // namespace nsbuild::sandbox
