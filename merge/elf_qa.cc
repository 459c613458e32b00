#include "merge/elf_qa.h"

#include <elf.h>

#include <cstring>

namespace nsbuild::merge {
namespace {

struct Elf64 {
  using Ehdr = Elf64_Ehdr;
  using Phdr = Elf64_Phdr;
  using Shdr = Elf64_Shdr;
  using Dyn = Elf64_Dyn;
};
struct Elf32 {
  using Ehdr = Elf32_Ehdr;
  using Phdr = Elf32_Phdr;
  using Shdr = Elf32_Shdr;
  using Dyn = Elf32_Dyn;
};

// Copies a T out of data at off if it fits; the image may be truncated or
// crafted, so nothing is read through a cast pointer.
template <typename T>
bool ReadAt(std::string_view data, uint64_t off, T* out) {
  if (off > data.size() || data.size() - off < sizeof(T)) return false;
  std::memcpy(out, data.data() + off, sizeof(T));
  return true;
}

bool UnderBuildDir(const std::string& entry, const std::vector<std::string>& build_dirs) {
  if (entry.empty() || entry[0] != '/') return entry.rfind("$ORIGIN", 0) != 0;
  for (const auto& b : build_dirs) {
    if (entry == b || entry.rfind(b + "/", 0) == 0) return true;
  }
  return false;
}

std::string CheckRunpath(std::string_view value, const std::vector<std::string>& build_dirs) {
  size_t pos = 0;
  for (;;) {
    size_t colon = value.find(':', pos);
    std::string entry(value.substr(pos, colon == std::string_view::npos ? colon : colon - pos));
    if (UnderBuildDir(entry, build_dirs)) return std::string(value);
    if (colon == std::string_view::npos) return "";
    pos = colon + 1;
  }
}

template <typename E>
void ScanDynamic(std::string_view data, const typename E::Phdr& dyn_ph, uint64_t strtab_off,
                 const std::vector<std::string>& build_dirs, ElfFindings* f) {
  for (uint64_t i = 0; i * sizeof(typename E::Dyn) < dyn_ph.p_filesz; ++i) {
    typename E::Dyn d;
    if (!ReadAt(data, dyn_ph.p_offset + i * sizeof d, &d) || d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_TEXTREL) f->text_relocs = true;
    if (d.d_tag == DT_FLAGS && (d.d_un.d_val & DF_TEXTREL)) f->text_relocs = true;
    if ((d.d_tag == DT_RPATH || d.d_tag == DT_RUNPATH) && strtab_off != 0) {
      uint64_t off = strtab_off + d.d_un.d_val;
      if (off >= data.size()) continue;
      std::string_view s = data.substr(off);
      s = s.substr(0, s.find('\0'));
      std::string bad = CheckRunpath(s, build_dirs);
      if (!bad.empty()) f->bad_rpath = bad;
    }
  }
}

// DT_STRTAB holds a virtual address; map it back to a file offset through
// the PT_LOAD that covers it.
template <typename E>
uint64_t StrtabOffset(std::string_view data, const typename E::Ehdr& eh,
                      const typename E::Phdr& dyn_ph) {
  uint64_t vaddr = 0;
  for (uint64_t i = 0; i * sizeof(typename E::Dyn) < dyn_ph.p_filesz; ++i) {
    typename E::Dyn d;
    if (!ReadAt(data, dyn_ph.p_offset + i * sizeof d, &d) || d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_STRTAB) vaddr = d.d_un.d_ptr;
  }
  for (int i = 0; vaddr != 0 && i < eh.e_phnum; ++i) {
    typename E::Phdr ph;
    if (!ReadAt(data, eh.e_phoff + uint64_t(i) * eh.e_phentsize, &ph)) break;
    if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
      return ph.p_offset + (vaddr - ph.p_vaddr);
    }
  }
  return 0;
}

template <typename E>
bool HasSymtab(std::string_view data, const typename E::Ehdr& eh) {
  for (int i = 0; i < eh.e_shnum; ++i) {
    typename E::Shdr sh;
    if (!ReadAt(data, eh.e_shoff + uint64_t(i) * eh.e_shentsize, &sh)) return false;
    if (sh.sh_type == SHT_SYMTAB) return true;
  }
  return false;
}

template <typename E>
void Analyze(std::string_view data, const std::vector<std::string>& build_dirs, ElfFindings* f) {
  typename E::Ehdr eh;
  if (!ReadAt(data, 0, &eh) || eh.e_phentsize != sizeof(typename E::Phdr)) return;
  f->is_elf = true;
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return;  // objects, cores: no QA
  bool saw_stack = false;
  for (int i = 0; i < eh.e_phnum; ++i) {
    typename E::Phdr ph;
    if (!ReadAt(data, eh.e_phoff + uint64_t(i) * eh.e_phentsize, &ph)) break;
    if (ph.p_type == PT_GNU_STACK) {
      saw_stack = true;
      f->exec_stack = (ph.p_flags & PF_X) != 0;
    }
    if (ph.p_type == PT_DYNAMIC) {
      ScanDynamic<E>(data, ph, StrtabOffset<E>(data, eh, ph), build_dirs, f);
    }
  }
  // Without PT_GNU_STACK the kernel gives the program an executable stack.
  if (!saw_stack && eh.e_phnum > 0) f->exec_stack = true;
  f->pre_stripped = eh.e_shentsize == sizeof(typename E::Shdr) && !HasSymtab<E>(data, eh);
}

}  // namespace

ElfFindings AnalyzeElf(std::string_view data, const std::vector<std::string>& build_dirs) {
  ElfFindings f;
  if (data.size() < EI_NIDENT || std::memcmp(data.data(), ELFMAG, SELFMAG) != 0) return f;
  if (data[EI_DATA] != ELFDATA2LSB) return f;  // we only build for little-endian hosts
  if (data[EI_CLASS] == ELFCLASS64) Analyze<Elf64>(data, build_dirs, &f);
  if (data[EI_CLASS] == ELFCLASS32) Analyze<Elf32>(data, build_dirs, &f);
  return f;
}

}  // namespace nsbuild::merge
