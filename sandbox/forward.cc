#include "sandbox/forward.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <list>

namespace nsbuild::sandbox {
namespace {

using base::UniqueFd;

constexpr size_t kBufferSize = 64 * 1024;
// Beyond this many open connections, new ones wait in the listen backlog.
constexpr size_t kMaxConnections = 256;

// Bytes read from one side, not yet written to the other.
struct Direction {
  std::unique_ptr<std::array<char, kBufferSize>> buf =
      std::make_unique<std::array<char, kBufferSize>>();
  size_t begin = 0, end = 0;
  bool eof = false;        // the source side sent FIN
  bool shut_down = false;  // and we passed it on
  bool empty() const { return begin == end; }
};

struct Connection {
  UniqueFd client;  // the sandbox's side
  UniqueFd daemon;
  size_t forward = 0;
  bool connecting = true;
  bool failed = false;
  Direction up;    // client → daemon
  Direction down;  // daemon → client
  bool done() const { return failed || (up.eof && up.empty() && down.eof && down.empty()); }
};

// Reads what fits; false on a hard error.
bool Fill(int fd, Direction& d) {
  if (d.eof || !d.empty()) return true;
  ssize_t n = recv(fd, d.buf->data(), kBufferSize, 0);
  if (n > 0) {
    d.begin = 0;
    d.end = static_cast<size_t>(n);
  } else if (n == 0) {
    d.eof = true;
  } else if (errno != EAGAIN && errno != EINTR) {
    return false;
  }
  return true;
}

// Writes what is buffered, then passes a FIN on; false on a hard error.
bool Drain(int fd, Direction& d) {
  if (!d.empty()) {
    ssize_t n = send(fd, d.buf->data() + d.begin, d.end - d.begin, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    d.begin += static_cast<size_t>(n);
  }
  if (d.empty() && d.eof && !d.shut_down) {
    shutdown(fd, SHUT_WR);
    d.shut_down = true;
  }
  return true;
}

short ClientEvents(const Connection& c) {
  short ev = 0;
  if (!c.up.eof && c.up.empty()) ev |= POLLIN;
  if (!c.down.empty() || (c.down.eof && !c.down.shut_down)) ev |= POLLOUT;
  return ev;
}

short DaemonEvents(const Connection& c) {
  if (c.connecting) return POLLOUT;
  short ev = 0;
  if (!c.down.eof && c.down.empty()) ev |= POLLIN;
  if (!c.up.empty() || (c.up.eof && !c.up.shut_down)) ev |= POLLOUT;
  return ev;
}

}  // namespace

struct Forwarder::Loop {
  std::vector<UniqueFd> listeners;
  std::vector<sockaddr_in> daemons;
  std::list<Connection> conns;
  int stop_fd = -1;
  Forwarder* owner = nullptr;

  void Accept(size_t i) {
    UniqueFd client(accept4(listeners[i].get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) return;
    Connection c;
    c.client = std::move(client);
    c.forward = i;
    c.daemon.reset(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const sockaddr* addr = reinterpret_cast<const sockaddr*>(&daemons[i]);
    if (!c.daemon ||
        (connect(c.daemon.get(), addr, sizeof daemons[i]) != 0 && errno != EINPROGRESS)) {
      owner->failures_++;
      return;  // closing the client tells distcc the host is down
    }
    conns.push_back(std::move(c));
  }

  void Connected(Connection& c) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.daemon.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      c.failed = true;
      owner->failures_++;
      return;
    }
    c.connecting = false;
    owner->forwarded_[c.forward]++;
  }

  void Service(Connection& c, short client_rev, short daemon_rev) {
    if (c.connecting && daemon_rev) Connected(c);
    if (c.failed) return;
    bool ok = true;
    if (client_rev & (POLLIN | POLLHUP | POLLERR)) ok = ok && Fill(c.client.get(), c.up);
    if (!c.connecting) {
      if (daemon_rev & (POLLIN | POLLHUP | POLLERR)) ok = ok && Fill(c.daemon.get(), c.down);
      ok = ok && Drain(c.daemon.get(), c.up);
    }
    ok = ok && Drain(c.client.get(), c.down);
    if (!ok) c.failed = true;
  }

  void Run() {
    std::vector<pollfd> fds;
    for (;;) {
      fds.clear();
      fds.push_back({stop_fd, POLLIN, 0});
      bool room = conns.size() < kMaxConnections;
      for (const auto& l : listeners) fds.push_back({room ? l.get() : -1, POLLIN, 0});
      for (const auto& c : conns) {
        short ce = ClientEvents(c), de = DaemonEvents(c);
        // A negative fd is skipped by poll: no POLLHUP spinning on a side
        // we have nothing to do with until the other side moves.
        fds.push_back({ce ? c.client.get() : -1, ce, 0});
        fds.push_back({de ? c.daemon.get() : -1, de, 0});
      }
      if (poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[0].revents) return;
      for (size_t i = 0; i < listeners.size(); ++i) {
        if (fds[1 + i].revents & POLLIN) Accept(i);
      }
      size_t k = 1 + listeners.size();
      for (auto it = conns.begin(); it != conns.end() && k < fds.size(); k += 2) {
        Service(*it, fds[k].revents, fds[k + 1].revents);
        it = it->done() ? conns.erase(it) : std::next(it);
      }
    }
  }
};

base::Result<std::unique_ptr<Forwarder>> Forwarder::Start(std::vector<UniqueFd> listeners,
                                                          const std::vector<Forward>& forwards) {
  if (listeners.size() != forwards.size())
    return base::PlainError("forwarder: one listener per daemon");
  std::unique_ptr<Forwarder> f(new Forwarder());
  f->loop_ = std::make_unique<Loop>();
  f->loop_->owner = f.get();
  for (size_t i = 0; i < forwards.size(); ++i) {
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(forwards[i].daemon_port);
    if (inet_pton(AF_INET, forwards[i].daemon_addr.c_str(), &a.sin_addr) != 1) {
      return base::PlainError("forwarder: not an IPv4 address: " + forwards[i].daemon_addr);
    }
    if (fcntl(listeners[i].get(), F_SETFL, O_NONBLOCK) != 0)
      return base::ErrnoError("forwarder: O_NONBLOCK");
    f->loop_->daemons.push_back(a);
  }
  f->loop_->listeners = std::move(listeners);
  f->count_ = forwards.size();
  f->forwarded_ = std::make_unique<std::atomic<uint64_t>[]>(f->count_);
  for (size_t i = 0; i < f->count_; ++i) f->forwarded_[i] = 0;
  f->stop_.reset(eventfd(0, EFD_CLOEXEC));
  if (!f->stop_) return base::ErrnoError("forwarder: eventfd");
  f->loop_->stop_fd = f->stop_.get();
  // The thread takes no signals: they belong to the main thread's handlers.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  Loop* loop = f->loop_.get();
  f->thread_ = std::thread([loop] { loop->Run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return f;
}

void Forwarder::Stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  if (write(stop_.get(), &one, sizeof one) != sizeof one) {
    // An eventfd write only fails on overflow, which one write cannot cause.
  }
  thread_.join();
  loop_->conns.clear();
  loop_->listeners.clear();
}

Forwarder::~Forwarder() { Stop(); }

std::vector<uint64_t> Forwarder::forwarded() const {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < count_; ++i) out.push_back(forwarded_[i].load());
  return out;
}

}  // namespace nsbuild::sandbox
