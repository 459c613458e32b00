// nsbuild diff A B: the canonical comparison reproducibility checks use,
// on two existing images or destinations.
#include <cstdio>

#include "base/escape.h"
#include "cli/commands.h"
#include "merge/image_diff.h"

namespace nsbuild::cli {
namespace {

struct DiffArgs {
  std::string a, b;
  bool owner = false, mtime = false, quiet = false;
};

int Diff(const DiffArgs& o) {
  auto d = merge::DiffImages(o.a, o.b, merge::DiffOptions{o.owner, o.mtime});
  if (!d) {
    std::fprintf(stderr, "nsbuild diff: %s\n", d.error().Message().c_str());
    return kExitUsage;
  }
  if (d->same()) {
    std::printf("reproducible: %s\n", d->digest_a.c_str());
    return kExitOk;
  }
  std::printf("differ: %zu path(s)\n  A %s  %s\n  B %s  %s\n", d->diffs.size(), d->digest_a.c_str(),
              o.a.c_str(), d->digest_b.c_str(), o.b.c_str());
  for (const auto& e : d->diffs) {
    std::printf("  %s: %s\n", base::EscapeLine(e.path).c_str(), base::EscapeLine(e.what).c_str());
    if (!o.quiet && e.what.find("content") != std::string::npos) {
      std::fputs(base::EscapeText(merge::DescribeFileDifference(o.a, o.b, e.path)).c_str(), stdout);
    }
  }
  return kExitFailure;
}

}  // namespace

void DefineDiff(CLI::App& diff, CommandContext& ctx) {
  auto o = std::make_shared<DiffArgs>();
  CLI::App* cmd = &diff;
  cmd->footer(
      "Compares sorted paths, file type, permission bits, symlink targets and content sha256\n"
      "(owner and mtime only with --owner/--mtime). Prints `reproducible: DIGEST` or every\n"
      "differing path with what differs, a unified diff for text and the first differing\n"
      "byte for binaries. Exit status: 0 same, 1 different, 2 bad input.");
  cmd->add_option("A", o->a, "First image or destination")->required();
  cmd->add_option("B", o->b, "Second image or destination")->required();
  cmd->add_flag("--owner", o->owner, "Also compare uid:gid");
  cmd->add_flag("--mtime", o->mtime, "Also compare modification times");
  cmd->add_flag("--brief", o->quiet, "Name differing paths only, no content diffs");
  cmd->callback([o, &ctx] { ctx.exit_status = Diff(*o); });
}

}  // namespace nsbuild::cli
