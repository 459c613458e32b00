// nsbuild doctor: what this kernel and user can do, and whether the default
// policy can run here at all (by running it).
#include <unistd.h>

#include <cstdio>

#include "builder/distcc.h"
#include "builder/policy_file.h"
#include "cli/commands.h"
#include "sandbox/landlock.h"
#include "sandbox/plan.h"
#include "sandbox/probe.h"
#include "sandbox/sandbox.h"
#include "sandbox/user_ns.h"

namespace nsbuild::cli {

using builder::CheckDistccInstalled;
using builder::LoadPolicyDocument;
using builder::SandboxPolicyOf;
namespace {

void Line(bool ok, const std::string& name, const std::string& detail) {
  std::printf("%-4s %-32s %s\n", ok ? "ok" : "no", name.c_str(), detail.c_str());
}

// The decisive check: the default policy running /bin/true.
bool TryDefaultPolicy(const std::string& policy_name, std::string* why) {
  auto doc = LoadPolicyDocument(policy_name);
  if (!doc) return *why = doc.error().Message(), false;
  auto policy = SandboxPolicyOf(*doc);
  if (!policy) return *why = policy.error().Message(), false;
  sandbox::RunRequest req;
  req.argv = {"true"};
  auto spec = sandbox::PlanSandbox(*policy, req);
  if (!spec) return *why = spec.error().Message(), false;
  auto info = sandbox::Run(*spec);
  if (!info) return *why = info.error().Message(), false;
  if (info->setup_failure) return *why = info->setup_failure->Message(), false;
  if (info->ExitStatus() != 0) {
    return *why = "true exited with " + std::to_string(info->ExitStatus()), false;
  }
  *why = "ran /bin/true (" + doc->path + ")";
  return true;
}

int Doctor(const std::string& policy) {
  bool required_ok = true;
  for (const auto& r : sandbox::ProbeKernel()) {
    Line(r.ok, r.name, r.detail);
    if (r.required && !r.ok) required_ok = false;
  }
  auto ids = sandbox::ResolveIdMapping(0, 0, std::nullopt);
  Line(true, "id mapping",
       !ids.IsRange()
           ? "single id (unprivileged caller): inside 0 = uid " + std::to_string(ids.host_uid_base)
           : "root caller: inside 0.." + std::to_string(ids.count - 1) + " = host " +
                 std::to_string(ids.host_uid_base) + "..");
  // Network "distcc": the relay and the listen rule need nothing beyond the
  // required probes; Landlock adds what this kernel's ABI allows.
  Line(true, "network distcc",
       "relay to listed daemons only; listen(2) denied; " +
           sandbox::DescribeDistccLandlock(sandbox::LandlockAbi()));
  auto distcc = CheckDistccInstalled();
  Line(distcc.ok(), "distcc client",
       distcc.ok() ? "/usr/bin/distcc, masquerade dir /usr/lib/distcc"
                   : "not installed (Debian package distcc)");
  std::string why;
  bool runs = TryDefaultPolicy(policy, &why);
  Line(runs, "policy '" + policy + "' runs", why);
  if (!runs || !required_ok) {
    std::fprintf(stderr, "nsbuild doctor: the %s policy cannot run here: %s\n", policy.c_str(),
                 why.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void DefineDoctor(CLI::App& cmd, CommandContext& ctx) {
  auto policy = std::make_shared<std::string>("default");
  CLI::App* doc = &cmd;
  doc->footer(
      "Probes user namespaces, overlayfs in a user namespace, seccomp (filter and user\n"
      "notification), Landlock, cgroup v2 delegation and time namespaces by trying each,\n"
      "reports what the \"distcc\" network gets on this kernel (Landlock TCP rules need ABI >= 4,\n"
      "abstract-socket and signal scoping ABI >= 6) and whether distcc is installed,\n"
      "then runs /bin/true under the policy. Exit status 0 when the policy can run, 1 if not.");
  doc->add_option("--policy", *policy, "Policy to try")->capture_default_str();
  doc->callback([policy, &ctx] { ctx.exit_status = Doctor(*policy); });
}

}  // namespace nsbuild::cli
