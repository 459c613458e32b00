// Passing descriptors over a unix socket (SCM_RIGHTS), parent side. The
// sandbox child keeps its own allocation-free copy (sandbox/child/fds.h):
// it runs where this library's code may not.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::base {

// The most descriptors SendFds puts in one message.
inline constexpr size_t kMaxSentFds = 16;

// Sends `fds` (at most kMaxSentFds) with one data byte in one message.
// Returns 0 or an errno. Allocation-free, so a child forked from a process
// with threads may call it.
int SendFds(int sock, std::span<const int> fds);

struct ReceivedFds {
  std::vector<UniqueFd> fds;  // empty on EOF or a message without descriptors
  bool truncated = false;     // the message carried more than asked for
};

// The descriptors of one message, at most `max`, received close-on-exec.
// Retries EINTR; an error is recvmsg's.
Result<ReceivedFds> ReceiveFds(int sock, size_t max);

}  // namespace nsbuild::base
