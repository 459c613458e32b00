#include "merge/elf_qa.h"

#include <elf.h>
#include <unistd.h>

#include <algorithm>
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

// Caps on what one read may take: the program and section header tables
// are at most 65535 entries, a real dynamic section a few hundred entries,
// a runpath a few hundred bytes.
constexpr uint64_t kMaxTable = uint64_t{65535} * sizeof(Elf64_Shdr);
constexpr uint64_t kMaxDynamic = uint64_t{1} << 20;
constexpr uint64_t kMaxString = 4096;

// Reads at most `len` bytes at `off` into a buffer; fewer at the end of
// the file. Bytes are copied out, never reached through a cast pointer.
using ReadFn = std::function<std::string(uint64_t off, uint64_t len)>;

template <typename T>
bool ReadAt(std::string_view data, uint64_t off, T* out) {
  if (off > data.size() || data.size() - off < sizeof(T)) return false;
  std::memcpy(out, data.data() + off, sizeof(T));
  return true;
}

// A table of `count` entries of `entsize` bytes at `off`, read once.
std::string Table(const ReadFn& read, uint64_t off, uint64_t count, uint64_t entsize,
                  uint64_t cap) {
  return read(off, std::min(count * entsize, cap));
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
void ScanDynamic(const ReadFn& read, std::string_view dyn, uint64_t strtab_off,
                 const std::vector<std::string>& build_dirs, ElfFindings* f) {
  for (uint64_t off = 0;; off += sizeof(typename E::Dyn)) {
    typename E::Dyn d;
    if (!ReadAt(dyn, off, &d) || d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_TEXTREL) f->text_relocs = true;
    if (d.d_tag == DT_FLAGS && (d.d_un.d_val & DF_TEXTREL)) f->text_relocs = true;
    if ((d.d_tag == DT_RPATH || d.d_tag == DT_RUNPATH) && strtab_off != 0) {
      std::string s = read(strtab_off + d.d_un.d_val, kMaxString);
      if (s.empty()) continue;
      s = s.substr(0, s.find('\0'));
      std::string bad = CheckRunpath(s, build_dirs);
      if (!bad.empty()) f->bad_rpath = bad;
    }
  }
}

// DT_STRTAB holds a virtual address; map it back to a file offset through
// the PT_LOAD that covers it.
template <typename E>
uint64_t StrtabOffset(std::string_view phdrs, std::string_view dyn) {
  uint64_t vaddr = 0;
  for (uint64_t off = 0;; off += sizeof(typename E::Dyn)) {
    typename E::Dyn d;
    if (!ReadAt(dyn, off, &d) || d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_STRTAB) vaddr = d.d_un.d_ptr;
  }
  for (uint64_t off = 0; vaddr != 0; off += sizeof(typename E::Phdr)) {
    typename E::Phdr ph;
    if (!ReadAt(phdrs, off, &ph)) break;
    if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) {
      return ph.p_offset + (vaddr - ph.p_vaddr);
    }
  }
  return 0;
}

template <typename E>
bool HasSymtab(const ReadFn& read, const typename E::Ehdr& eh) {
  std::string shdrs = Table(read, eh.e_shoff, eh.e_shnum, sizeof(typename E::Shdr), kMaxTable);
  for (uint64_t off = 0;; off += sizeof(typename E::Shdr)) {
    typename E::Shdr sh;
    if (!ReadAt(shdrs, off, &sh)) return false;
    if (sh.sh_type == SHT_SYMTAB) return true;
  }
}

template <typename E>
void Analyze(const ReadFn& read, const std::vector<std::string>& build_dirs, ElfFindings* f) {
  typename E::Ehdr eh;
  if (!ReadAt(read(0, sizeof eh), 0, &eh) || eh.e_phentsize != sizeof(typename E::Phdr)) return;
  f->is_elf = true;
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return;  // objects, cores: no QA
  std::string phdrs = Table(read, eh.e_phoff, eh.e_phnum, sizeof(typename E::Phdr), kMaxTable);
  bool saw_stack = false;
  for (uint64_t off = 0;; off += sizeof(typename E::Phdr)) {
    typename E::Phdr ph;
    if (!ReadAt(phdrs, off, &ph)) break;
    if (ph.p_type == PT_GNU_STACK) {
      saw_stack = true;
      f->exec_stack = (ph.p_flags & PF_X) != 0;
    }
    if (ph.p_type == PT_DYNAMIC) {
      std::string dyn = read(ph.p_offset, std::min<uint64_t>(ph.p_filesz, kMaxDynamic));
      ScanDynamic<E>(read, dyn, StrtabOffset<E>(phdrs, dyn), build_dirs, f);
    }
  }
  // Without PT_GNU_STACK the kernel gives the program an executable stack.
  if (!saw_stack && eh.e_phnum > 0) f->exec_stack = true;
  f->pre_stripped = eh.e_shentsize == sizeof(typename E::Shdr) && !HasSymtab<E>(read, eh);
}

ElfFindings AnalyzeWith(const ReadFn& read, const std::vector<std::string>& build_dirs) {
  ElfFindings f;
  std::string ident = read(0, EI_NIDENT);
  if (ident.size() < EI_NIDENT || std::memcmp(ident.data(), ELFMAG, SELFMAG) != 0) return f;
  if (ident[EI_DATA] != ELFDATA2LSB) return f;  // we only build for little-endian hosts
  if (ident[EI_CLASS] == ELFCLASS64) Analyze<Elf64>(read, build_dirs, &f);
  if (ident[EI_CLASS] == ELFCLASS32) Analyze<Elf32>(read, build_dirs, &f);
  return f;
}

}  // namespace

ElfFindings AnalyzeElf(std::string_view data, const std::vector<std::string>& build_dirs) {
  return AnalyzeWith(
      [&](uint64_t off, uint64_t len) {
        if (off >= data.size()) return std::string();
        return std::string(data.substr(off, len));
      },
      build_dirs);
}

ElfFindings AnalyzeElfFd(int fd, uint64_t size, const std::vector<std::string>& build_dirs) {
  return AnalyzeWith(
      [&](uint64_t off, uint64_t len) {
        if (off >= size) return std::string();
        std::string buf(std::min(len, size - off), '\0');
        size_t got = 0;
        while (got < buf.size()) {
          ssize_t n =
              ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(off + got));
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
          got += static_cast<size_t>(n);
        }
        buf.resize(got);
        return buf;
      },
      build_dirs);
}

}  // namespace nsbuild::merge
