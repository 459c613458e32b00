// The merge journal: written and fsynced in var/lib/nsbuild/journal.json
// before the destination's first change, it lists every operation of the
// transaction, so that after a crash recovery knows what may have happened
// and can undo it (state "prepared") or finish it (state "committed").
//
//   {"format": 1, "package": "NAME", "state": "prepared", "delete_db": false,
//    "ops": [{"op": "mkdir", "path": "usr/share/x", "mode": "0755"},
//            {"op": "add", "path": "usr/bin/x"}, ...]}
//
// Operation K uses the temporary names .nsb-tmp.K (a new file before it is
// renamed into place) and .nsb-old.K (the old file, kept until commit) in
// the directory of its path; images may not ship names starting with .nsb-.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "merge/dest_plan.h"

namespace nsbuild::merge {

inline constexpr const char* kJournalName = "journal.json";

struct Journal {
  std::string package;
  bool committed = false;
  bool delete_db = false;
  std::vector<Op> ops;  // item indexes are not kept: recovery needs no sources
};

std::string SerializeJournal(const Journal& j);
base::Result<Journal> ParseJournal(const std::string& text, const std::string& where);

std::string TmpName(size_t op_index);  // ".nsb-tmp.K"
std::string OldName(size_t op_index);  // ".nsb-old.K"

}  // namespace nsbuild::merge
