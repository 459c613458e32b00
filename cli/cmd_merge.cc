// nsbuild merge / check: the merger's command line. Options become a
// merge::MergeRequest here; everything else happens in merge/.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "builder/merge_handoff.h"
#include "builder/policy_file.h"
#include "builder/preflight.h"
#include "cli/commands.h"
#include "merge/merge.h"

namespace nsbuild::cli {

using builder::DispatcherPath;
using builder::LoadMergePolicy;
using builder::PrintMergeReport;
using builder::Say;
namespace {

struct MergeOptions {
  std::string dest;
  std::string policy = "default";
  std::string package;
  std::string impl_order;
  std::vector<std::string> wrap;
  std::vector<std::string> images;
  bool recover = false;
  bool no_hash = false;
  bool replace = false;
};

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size() && !s.empty()) {
    size_t c = s.find(',', pos);
    if (c == std::string::npos) c = s.size();
    if (c > pos) out.push_back(s.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}

// IMPL=PATH names the image's implementation; a plain PATH has none.
base::Result<std::vector<merge::ImageSpec>> ParseImages(const std::vector<std::string>& args) {
  std::vector<merge::ImageSpec> out;
  for (const auto& a : args) {
    merge::ImageSpec s;
    auto eq = a.find('=');
    if (eq != std::string::npos && a.find('/') > eq) {
      s.impl = a.substr(0, eq);
      s.path = a.substr(eq + 1);
    } else {
      s.path = a;
    }
    struct stat st;
    if (::stat(s.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return base::PlainError("image " + s.path + " is not a directory");
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<int64_t> SourceDateEpoch() {
  const char* v = std::getenv("SOURCE_DATE_EPOCH");
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  long long n = std::strtoll(v, &end, 10);
  if (*end != '\0' || n < 0) return std::nullopt;
  return n;
}

int RunMerge(const MergeOptions& o) {
  if (o.recover) {
    auto r = merge::RecoverDest(o.dest);
    if (!r) return Say("merge", "error: " + r.error().Message()), kExitFailure;
    Say("merge", r->empty() ? "nothing to recover in " + o.dest : *r);
    return kExitOk;
  }
  if (o.images.empty()) return Say("merge", "error: no IMAGE given"), kExitUsage;
  // A missing destination is created, as `nsbuild build --dest` does.
  if (auto st = builder::PrepareDest(o.dest); !st) {
    return Say("merge", "error: " + st.error().Message()), kExitUsage;
  }
  if (!o.package.empty()) {
    if (auto st = builder::CheckPackageName(o.package); !st)
      return Say("merge", "error: --package: " + st.error().Message()), kExitUsage;
  }
  merge::MergeRequest req;
  auto images = ParseImages(o.images);
  if (!images) return Say("merge", "error: " + images.error().Message()), kExitUsage;
  auto policy = LoadMergePolicy(o.policy);
  if (!policy) return Say("merge", "error: " + policy.error().Message()), kExitUsage;
  req.dest = o.dest;
  req.package = o.package;
  req.images = *images;
  req.impl_order = SplitComma(o.impl_order);
  req.wrapped_dirs = o.wrap;
  req.dispatcher_path = DispatcherPath();
  req.policy = *policy;
  req.source_date_epoch = SourceDateEpoch();
  req.hash = !o.no_hash;
  req.replace = o.replace;  // origin: "operator", the default
  auto rep = merge::MergeImages(req);
  if (!rep) return Say("merge", "error: " + rep.error().Message()), kExitFailure;
  if (!PrintMergeReport("merge", *rep, *images)) {
    Say("merge", "nothing was merged into " + o.dest);
    return kExitFailure;
  }
  Say("merge", "merged " + rep->package + " into " + o.dest + " (" +
                   std::to_string(rep->operations) + " operations)");
  return kExitOk;
}

int RunCheck(const std::string& policy_name, const std::vector<std::string>& args) {
  auto images = ParseImages(args);
  if (!images) return Say("check", "error: " + images.error().Message()), kExitUsage;
  auto policy = LoadMergePolicy(policy_name);
  if (!policy) return Say("check", "error: " + policy.error().Message()), kExitUsage;
  auto rep = merge::CheckImages(*images, *policy);
  if (!rep) return Say("check", "error: " + rep.error().Message()), kExitFailure;
  if (!PrintMergeReport("check", *rep, *images)) return kExitFailure;
  Say("check", "ok: no rejection");
  return kExitOk;
}

constexpr const char* kMergeHelp =
    "Merge images (one install root per implementation) into DIR, treating each\n"
    "as hostile: seal (chown to the policy's owner), walk with fds never following\n"
    "a symlink, check (special files, setuid/setgid, world-writable, privileged\n"
    "xattrs, hardlinks to outside files, prefixes, names, depth), then hardlink every\n"
    "file in under a journal so a crash leaves the old or the new state\n"
    "(--recover, or the next merge, finishes the job). The installed files are\n"
    "recorded in DIR/var/lib/nsbuild/PACKAGE.json with their origin (\"operator\"\n"
    "here, the recipe for nsbuild build --dest); a package of that name from another\n"
    "origin is replaced only with --replace. Merged images are emptied, leaving\n"
    "IMAGE/.nsbuild-merged naming where they went.\n\n"
    "Examples:\n"
    "  nsbuild merge --dest /srv/root --package foo ./image\n"
    "  nsbuild merge --dest / --package foo --impl-order py312,py311 --wrap usr/bin \\\n"
    "      py311=./img311 py312=./img312\n"
    "  nsbuild merge --recover --dest /srv/root\n\n"
    "Exit status: 0 merged (or recovered); 1 refused (rejections, conflicts,\n"
    "collisions) or failed and rolled back, the destination unchanged; 2 bad usage\n"
    "or input, nothing done.";

}  // namespace

void DefineMerge(CLI::App& merge, CommandContext& ctx) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* m = &merge;
  m->footer(kMergeHelp);
  m->add_option("--dest", o->dest, "Destination root (created files go under it)")->required();
  m->add_option("--policy", o->policy, "Policy name or file; its \"merge\" object applies")
      ->capture_default_str();
  m->add_option("--package", o->package, "Package name for the database (default: image dir name)");
  m->add_option("--impl-order", o->impl_order,
                "Preference order A,B,...: settles differing files, orders wrappers");
  m->add_option("--wrap", o->wrap, "Directory whose executables get exec wrappers (repeatable)");
  m->add_flag("--recover", o->recover, "Only finish or roll back an interrupted merge");
  m->add_flag("--replace", o->replace,
              "Replace an installed package of the same name that came from another origin");
  m->add_flag("--no-hash", o->no_hash, "Skip sha256 (benchmarks; the database has no hashes)");
  m->add_option("image", o->images, "IMAGE or IMPL=IMAGE, one per implementation");
  m->callback([o, &ctx] { ctx.exit_status = RunMerge(*o); });
}

void DefineCheck(CLI::App& check, CommandContext& ctx) {
  auto images = std::make_shared<std::vector<std::string>>();
  auto policy = std::make_shared<std::string>("default");
  CLI::App* c = &check;
  c->footer(
      "Prints every rejection (path and reason) and QA notice.\n"
      "Exit status: 0 no rejection; 1 rejections; 2 bad usage or input.");
  c->add_option("--policy", *policy, "Policy name or file")->capture_default_str();
  c->add_option("image", *images, "IMAGE or IMPL=IMAGE")->required();
  c->callback([images, policy, &ctx] { ctx.exit_status = RunCheck(*policy, *images); });
}

}  // namespace nsbuild::cli
