// QA on ELF files, read with <elf.h> only: the defects Portage warns about
// that make an installed binary unsafe or unportable. Bounds are checked on
// every header and table, because the bytes come from an untrusted build,
// and only the headers and tables needed are read (pread, each read capped),
// never the whole file: an image can hold a sparse file of gigabytes that
// starts with \177ELF.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace nsbuild::merge {

struct ElfFindings {
  bool is_elf = false;
  bool exec_stack = false;    // PT_GNU_STACK with PF_X, or no PT_GNU_STACK at all
  bool text_relocs = false;   // DT_TEXTREL or DF_TEXTREL
  bool pre_stripped = false;  // an executable or library without .symtab
  std::string bad_rpath;      // the RPATH/RUNPATH naming a build directory
};

// `build_dirs` are absolute prefixes where builds ran; a runpath entry under
// one of them (or relative, or empty, which means the cwd) is reported.
ElfFindings AnalyzeElf(std::string_view data, const std::vector<std::string>& build_dirs);
// The same from an open file of `size` bytes, by pread.
ElfFindings AnalyzeElfFd(int fd, uint64_t size, const std::vector<std::string>& build_dirs);

}  // namespace nsbuild::merge
