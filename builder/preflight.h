// Errors before work: what would make a build fail only after its sandboxes
// ran (a destination that cannot be made, a work dir the sandbox's ids
// cannot reach, a package name the merger refuses, a program a recipe's
// define_implementations names but the host lacks) is found here, before
// the first sandbox starts, and said in one line with what to do.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "builder/recipe.h"
#include "sandbox/policy.h"

namespace nsbuild::builder {

// --dest: an existing directory we may write, or one whose parent exists
// and is writable (MergeInto creates it then).
base::Status CheckDest(const std::string& dest);
// A new destination root is created (its parent must exist); an existing
// one is kept. Both `nsbuild merge --dest` and a build's merge call it.
base::Status CreateDest(const std::string& dest);
// CheckDest, then CreateDest (`nsbuild merge --dest`).
base::Status PrepareDest(const std::string& dest);

// Every existing directory from / down to `work_dir` must be searchable by
// the host ids the sandbox's user maps to (uid, gid): the sandbox reaches
// its binds through them. Skipped when those ids are our own.
base::Status CheckWorkDirReachable(const std::string& work_dir, uid_t uid, gid_t gid);

// Whether `mode` of a directory owned by owner:group lets uid:gid search it
// (ACLs aside).
bool CanSearch(mode_t mode, uid_t owner, gid_t group, uid_t uid, gid_t gid);

// The recipe's define_implementations the build uses (`requested`, else the
// recipe's implementations): each program must be an executable file.
base::Status CheckGenericPrograms(const Recipe& recipe, const std::vector<std::string>& requested);

// The recipe's addwrite places against the policy's read-only view: an
// addwrite is a private, empty tmpfs, so over a path the view has (e.g.
// /usr/include) or over a parent of a bound tree it would hide what is there
// (configure then "cannot run C compiled programs", /bin/sh vanishes). Such
// an addwrite is refused with the reason. `recipe_path` is for messages.
base::Status CheckAddWrite(const sandbox::Policy& policy, const std::vector<AddWrite>& addwrite,
                           const std::string& recipe_path);

// The package name the merger will record (merge/database.h's rules).
base::Status CheckPackageName(const std::string& name);

// All of the above that apply to a build into `dest` ("" = no merge) with
// `work_dir`, for the ids `policy` maps the sandboxes' root to.
base::Status CheckBeforeWork(const std::string& dest, const std::string& work_dir,
                             const std::string& package, const sandbox::Policy& policy);

}  // namespace nsbuild::builder
