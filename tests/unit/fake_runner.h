// A CommandRunner without processes, for scheduler tests: each sub-phase is
// a timerfd that fires after its scripted duration. It records start order
// and concurrency, and can act like a make holding jobserver tokens of its
// lease (given back on a normal end, lost when killed, as a SIGKILLed make
// loses them).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/dir_fd.h"
#include "base/unique_fd.h"
#include "builder/jobserver.h"
#include "builder/runner.h"

namespace nsbuild::testing {

// The plan of recipe `r` for `impls` implementations named impl0, impl1, ...
inline builder::Plan PlanFor(const builder::Recipe& r, int impls) {
  std::vector<builder::Implementation> v;
  for (int i = 0; i < impls; ++i) {
    builder::Implementation impl;
    impl.name = "impl" + std::to_string(i);
    v.push_back(impl);
  }
  return builder::MakePlan(r, v);
}

// configure, compile[, test], install for `impls` implementations; with_all
// adds an all:install after them.
inline builder::Plan ImplsPlan(int impls, bool with_test, bool with_all) {
  builder::Recipe r;
  r.phases.configure = "c";
  r.phases.compile = "m";
  if (with_test) r.phases.test = "t";
  r.phases.install = "i";
  if (with_all) r.all_phases.install = "docs";
  return PlanFor(r, impls);
}

// configure then compile only, for `impls` implementations.
inline builder::Plan ConfigureCompilePlan(int impls) {
  builder::Recipe r;
  r.phases.configure = "c";
  r.phases.compile = "m";
  return PlanFor(r, impls);
}

// A real job server of `jobs` slots (the fake runner's makes use its leases).
inline std::unique_ptr<builder::JobServer> TestJobServer(int jobs) {
  auto js = builder::JobServer::Create(jobs);
  EXPECT_TRUE(js.ok());
  return js.ok() ? std::move(js).value() : nullptr;
}

struct FakeCommand {
  int duration_ms = 5;
  int exit_code = 0;
  std::string output;
  int take_tokens = 0;  // read from the pipe at start, like a make's extra jobs
  // Misbehaving clients: bytes written into the lease that were never read
  // from it (invented tokens), and tokens never given back although the
  // sub-phase ends normally (a make that died holding them).
  int write_untaken = 0;
  bool lose_tokens = false;
  // A client blocked reading its lease all along, as a compiler launcher
  // waiting for a slot is: it takes each token the moment one arrives (on
  // a thread of its own) and gives them all back when the sub-phase ends.
  bool waits_for_slots = false;
};

// The waiting client of FakeCommand::waits_for_slots.
class SlotWaiter {
 public:
  explicit SlotWaiter(int lease_read_fd)
      : reader_(::open(base::ProcFdPath(lease_read_fd).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)),
        stop_(::eventfd(0, EFD_CLOEXEC)),
        thread_([this] { Wait(); }) {}
  // Stops waiting; the tokens it holds, for the caller to give back.
  int Stop() {
    uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    return held_;
  }
  ~SlotWaiter() { Stop(); }

 private:
  void Wait() {
    for (;;) {
      pollfd fds[2] = {{reader_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents) return;
      char b;
      if (fds[0].revents && ::read(reader_.get(), &b, 1) == 1) held_.fetch_add(1);
    }
  }
  base::UniqueFd reader_, stop_;
  std::atomic<int> held_{0};
  std::thread thread_;
};

class FakeRunner : public builder::CommandRunner {
 public:
  explicit FakeRunner(const builder::Plan& plan) : plan_(plan) {}

  std::map<std::string, FakeCommand> commands;  // by "target:phase"
  builder::JobServer* jobserver = nullptr;      // for take_tokens
  std::function<void(const builder::SubPhase&)> on_start;
  // Called after every start, token taken, end and kill: where tests check
  // invariants at every event.
  std::function<void()> on_event;
  bool fail_to_start = false;

  std::vector<std::string> started, finished;  // in order
  int running = 0, peak = 0, tokens_held = 0, peak_tokens = 0;

  base::Result<std::unique_ptr<builder::RunningCommand>> Start(
      const builder::SubPhase& node, int output_fd, const builder::Lease& lease) override {
    std::string name = plan_.NameOf(node);
    if (fail_to_start) return base::PlainError("fake: cannot start " + name);
    FakeCommand c = commands.count(name) ? commands[name] : FakeCommand{};
    if (!c.output.empty()) (void)!::write(output_fd, c.output.data(), c.output.size());
    started.push_back(name);
    peak = std::max(peak, ++running);
    auto r = std::make_unique<Running>(this, name, c, lease);
    if (on_start) on_start(node);
    if (on_event) on_event();
    return std::unique_ptr<builder::RunningCommand>(std::move(r));
  }

 private:
  class Running : public builder::RunningCommand {
   public:
    Running(FakeRunner* owner, std::string name, FakeCommand c, const builder::Lease& lease)
        : owner_(owner),
          name_(std::move(name)),
          c_(c),
          lease_(lease),
          timer_(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)) {
      Arm(static_cast<long>(c.duration_ms) * 1000000L);
      // Like a make asking for jobs: each token it reads from its lease is
      // refilled by the server's next Balance, as long as the pool has one.
      for (int i = 0; i < c.take_tokens && owner_->jobserver; ++i) {
        owner_->jobserver->Balance();
        char b;
        if (lease_.Idle() > 0 && ::read(lease_.read_fd(), &b, 1) == 1) {
          ++taken_;
          ++owner_->tokens_held;
          owner_->peak_tokens = std::max(owner_->peak_tokens, owner_->tokens_held);
          if (owner_->on_event) owner_->on_event();
        }
      }
      if (c.waits_for_slots) waiter_ = std::make_unique<SlotWaiter>(lease_.read_fd());
      std::string invented(static_cast<size_t>(c.write_untaken), '+');
      if (c.write_untaken) (void)!::write(lease_.write_fd(), invented.data(), invented.size());
    }
    ~Running() override {
      if (!collected_) --owner_->running;
      owner_->tokens_held -= taken_;
    }
    int wait_fd() const override { return timer_.get(); }
    base::Result<sandbox::ExitInfo> Collect() override {
      collected_ = true;
      // The waiter's tokens go back as a launcher's do when its job ends.
      std::string waited(static_cast<size_t>(waiter_ ? waiter_->Stop() : 0), '+');
      waiter_.reset();
      if (!killed_ && !waited.empty())
        (void)!::write(lease_.write_fd(), waited.data(), waited.size());
      --owner_->running;
      owner_->finished.push_back(name_);
      sandbox::ExitInfo e;
      if (killed_) {
        e.signaled = true;
        e.signal = SIGKILL;
      } else {
        e.code = c_.exit_code;
        std::string bytes(static_cast<size_t>(taken_), '+');
        if (taken_ && !c_.lose_tokens)
          (void)!::write(lease_.write_fd(), bytes.data(), bytes.size());
      }
      owner_->tokens_held -= taken_;
      taken_ = 0;
      if (owner_->on_event) owner_->on_event();
      return e;
    }
    void Kill() override {
      killed_ = true;
      Arm(1);
      if (owner_->on_event) owner_->on_event();
    }

   private:
    void Arm(long ns) {
      itimerspec its{};
      its.it_value.tv_sec = ns / 1000000000L;
      its.it_value.tv_nsec = ns % 1000000000L;
      if (ns == 0) its.it_value.tv_nsec = 1;
      ::timerfd_settime(timer_.get(), 0, &its, nullptr);
    }
    FakeRunner* owner_;
    std::string name_;
    FakeCommand c_;
    const builder::Lease& lease_;  // open until this command is gone
    base::UniqueFd timer_;
    int taken_ = 0;
    bool killed_ = false, collected_ = false;
    std::unique_ptr<SlotWaiter> waiter_;
  };

  const builder::Plan& plan_;
};

}  // namespace nsbuild::testing
