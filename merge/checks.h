// The checks an image must pass before anything of it is merged. Every
// rejection names the path and the reason; a merge with any rejection
// merges nothing. QA notices are reported and only block when the policy
// makes them fatal.
#pragma once

#include <string>
#include <vector>

#include "merge/image_scan.h"
#include "merge/merge_policy.h"

namespace nsbuild::merge {

struct Finding {
  std::string impl;    // which image, "" for a single unnamed one
  std::string path;    // absolute inside the image ("/usr/bin/x")
  std::string kind;    // notice name (kNotice*), or "reject"
  std::string reason;  // one line a user can act on
};

// "IMAGE:/path: reason" for logs and the CLI.
std::string FormatFinding(const Finding& f, const std::string& image_path);

// Appends a rejection for everything in `img` the policy forbids, and the
// empty-directory notices. Pure: reads the scan only.
void CheckImage(const ScannedImage& img, const MergePolicy& policy,
                std::vector<Finding>* rejections, std::vector<Finding>* notices);

// Directories the merger owns in every destination; no image may ship
// anything under them.
inline constexpr const char* kDbDir = "var/lib/nsbuild";
inline constexpr const char* kExecDir = "usr/lib/nsbuild-exec";
// The dispatcher's admin configuration (exec_dispatcher.cc reads it): a
// package shipping it would pick the implementation of every other one.
inline constexpr const char* kExecConf = "etc/nsbuild-exec.conf";
// Written into an image's root once it is merged and emptied (merge.h).
inline constexpr const char* kMergedMarker = ".nsbuild-merged";

// The trees an image must never replace with a symlink: the policy's
// prefixes and protected paths, and these standard roots under them (a
// symlinked usr/lib would send the loader wherever the package says).
inline constexpr const char* kSystemTrees[] = {
    "/usr/bin",    "/usr/sbin",    "/usr/lib",     "/usr/lib32", "/usr/lib64",
    "/usr/libx32", "/usr/libexec", "/usr/include", "/usr/share", "/usr/src",
    "/var/lib",    "/var/cache",   "/var/log",     "/var/spool"};

// True when `abs` ("/usr/bin/x") is below one of `prefixes` or equal to it.
bool UnderPrefix(const std::string& abs, const std::vector<std::string>& prefixes);

}  // namespace nsbuild::merge
