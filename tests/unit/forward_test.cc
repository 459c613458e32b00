// The distcc relay on its own thread, without namespaces: a listener stands
// in for the one the sandbox's PID 1 makes, an echo server for the daemon.
// Also built into nsbuild_tsan_tests: the relay is one of nsbuild's two
// threaded parts.
#include "sandbox/forward.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace nsbuild::testing {
namespace {

using base::UniqueFd;

// A listening TCP socket on 127.0.0.1 and an ephemeral port.
UniqueFd Listen(uint16_t* port) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(s.get(), 8) != 0 ||
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return UniqueFd();
  }
  *port = ntohs(a.sin_port);
  return s;
}

UniqueFd Connect(uint16_t port) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return UniqueFd();
  return s;
}

// Reads until EOF.
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(Forwarder, RelaysEachConnectionToItsDaemonAndCountsIt) {
  uint16_t daemon_port = 0, inside_port = 0;
  UniqueFd daemon = Listen(&daemon_port);
  UniqueFd inside = Listen(&inside_port);
  ASSERT_TRUE(daemon.valid() && inside.valid());
  // The daemon answers each of two connections with what it read, reversed.
  std::thread echo([&] {
    for (int i = 0; i < 2; ++i) {
      UniqueFd c(::accept4(daemon.get(), nullptr, nullptr, SOCK_CLOEXEC));
      std::string got = ReadAll(c.get());
      std::string reply(got.rbegin(), got.rend());
      (void)!::write(c.get(), reply.data(), reply.size());
    }
  });
  sandbox::Forward f;
  f.inside_addr = "127.0.0.1";
  f.inside_port = inside_port;
  f.daemon_addr = "127.0.0.1";
  f.daemon_port = daemon_port;
  f.label = "test";
  std::vector<UniqueFd> listeners;
  listeners.push_back(std::move(inside));
  auto fw = sandbox::Forwarder::Start(std::move(listeners), {f});
  ASSERT_TRUE(fw.ok()) << fw.error().Message();
  for (const std::string& msg : std::vector<std::string>{"abc", std::string(100000, 'x') + "y"}) {
    UniqueFd c = Connect(inside_port);
    ASSERT_TRUE(c.valid());
    ASSERT_EQ(::write(c.get(), msg.data(), msg.size()), static_cast<ssize_t>(msg.size()));
    ::shutdown(c.get(), SHUT_WR);
    EXPECT_EQ(ReadAll(c.get()), std::string(msg.rbegin(), msg.rend()));
  }
  echo.join();
  (*fw)->Stop();
  EXPECT_EQ((*fw)->forwarded(), (std::vector<uint64_t>{2}));
  EXPECT_EQ((*fw)->failures(), 0u);
  (*fw)->Stop();  // twice is fine
}

TEST(Forwarder, ADaemonThatIsNotThereIsAFailureNotAHang) {
  uint16_t dead_port = 0, inside_port = 0;
  { UniqueFd gone = Listen(&dead_port); }  // the port is closed again
  UniqueFd inside = Listen(&inside_port);
  ASSERT_TRUE(inside.valid());
  sandbox::Forward f;
  f.inside_addr = "127.0.0.1";
  f.inside_port = inside_port;
  f.daemon_addr = "127.0.0.1";
  f.daemon_port = dead_port;
  std::vector<UniqueFd> listeners;
  listeners.push_back(std::move(inside));
  auto fw = sandbox::Forwarder::Start(std::move(listeners), {f});
  ASSERT_TRUE(fw.ok());
  UniqueFd c = Connect(inside_port);
  ASSERT_TRUE(c.valid());
  EXPECT_EQ(ReadAll(c.get()), "");  // closed on us
  (*fw)->Stop();
  EXPECT_EQ((*fw)->failures(), 1u);
  EXPECT_EQ((*fw)->forwarded(), (std::vector<uint64_t>{0}));
}

}  // namespace
}  // namespace nsbuild::testing
