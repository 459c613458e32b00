#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include "merge/elf_qa.h"

namespace nsbuild::merge {
namespace {

struct Craft {
  bool exec_stack = false;
  bool no_stack_header = false;
  bool textrel = false;
  std::string runpath;
  bool symtab = false;
};

template <typename T>
void Put(std::string* b, size_t off, const T& v) {
  std::memcpy(b->data() + off, &v, sizeof v);
}

// A little-endian ELF64 shared object, laid out by hand: headers at 0, the
// dynamic section at 256, its string table at 512, section headers at 768.
std::string MakeElf(const Craft& c) {
  std::string b(1024, '\0');
  Elf64_Ehdr eh = {};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_DYN;
  eh.e_machine = EM_X86_64;
  eh.e_phoff = 64;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = c.no_stack_header ? 2 : 3;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shoff = c.symtab ? 768 : 0;
  eh.e_shnum = c.symtab ? 2 : 0;
  Put(&b, 0, eh);
  Elf64_Phdr load = {PT_LOAD, PF_R | PF_X, 0, 0, 0, 1024, 1024, 4096};
  Elf64_Phdr dyn = {PT_DYNAMIC, PF_R, 256, 256, 256, 128, 128, 8};
  Elf64_Phdr stack = {PT_GNU_STACK, PF_R | PF_W | (c.exec_stack ? PF_X : 0u), 0, 0, 0, 0, 0, 16};
  Put(&b, 64, load);
  Put(&b, 64 + 56, dyn);
  if (!c.no_stack_header) Put(&b, 64 + 112, stack);
  size_t d = 256;
  auto add = [&](int64_t tag, uint64_t val) {
    Elf64_Dyn e = {};
    e.d_tag = tag;
    e.d_un.d_val = val;
    Put(&b, d, e);
    d += sizeof e;
  };
  add(DT_STRTAB, 512);
  if (!c.runpath.empty()) add(DT_RUNPATH, 1);
  if (c.textrel) add(DT_TEXTREL, 0);
  add(DT_NULL, 0);
  std::memcpy(b.data() + 513, c.runpath.data(), c.runpath.size());
  if (c.symtab) {
    Elf64_Shdr sym = {};
    sym.sh_type = SHT_SYMTAB;
    Put(&b, 768 + sizeof(Elf64_Shdr), sym);
  }
  return b;
}

const std::vector<std::string> kBuild = {"/var/tmp/nsbuild", "/build"};

TEST(ElfQa, CleanLibraryHasNoFindings) {
  auto f = AnalyzeElf(MakeElf({.runpath = "$ORIGIN/../lib:/usr/lib/foo", .symtab = true}), kBuild);
  EXPECT_TRUE(f.is_elf);
  EXPECT_FALSE(f.exec_stack);
  EXPECT_FALSE(f.text_relocs);
  EXPECT_FALSE(f.pre_stripped);
  EXPECT_EQ(f.bad_rpath, "");
}

TEST(ElfQa, FindsEachDefect) {
  EXPECT_TRUE(AnalyzeElf(MakeElf({.exec_stack = true, .symtab = true}), kBuild).exec_stack);
  EXPECT_TRUE(AnalyzeElf(MakeElf({.no_stack_header = true, .symtab = true}), kBuild).exec_stack);
  EXPECT_TRUE(AnalyzeElf(MakeElf({.textrel = true, .symtab = true}), kBuild).text_relocs);
  EXPECT_EQ(AnalyzeElf(MakeElf({.runpath = "/usr/lib:/build/foo/.libs", .symtab = true}), kBuild)
                .bad_rpath,
            "/usr/lib:/build/foo/.libs");
  EXPECT_EQ(AnalyzeElf(MakeElf({.runpath = "lib", .symtab = true}), kBuild).bad_rpath, "lib");
  EXPECT_TRUE(AnalyzeElf(MakeElf({}), kBuild).pre_stripped);
}

TEST(ElfQa, TruncatedOrForeignBytesAreSafe) {
  std::string elf = MakeElf({.textrel = true});
  for (size_t n : {0, 4, 16, 63, 64, 100, 200, 287}) {
    auto f = AnalyzeElf(std::string_view(elf).substr(0, n), kBuild);
    EXPECT_FALSE(f.text_relocs) << n;  // DT_TEXTREL (bytes 272..287) is cut off
  }
  EXPECT_TRUE(AnalyzeElf(std::string_view(elf).substr(0, 288), kBuild).text_relocs);
  EXPECT_FALSE(AnalyzeElf("#!/bin/sh\necho hi\n", kBuild).is_elf);
  std::string big_offsets = elf;
  Elf64_Ehdr eh;
  std::memcpy(&eh, big_offsets.data(), sizeof eh);
  eh.e_phoff = ~0ull - 8;
  eh.e_phnum = 0xffff;
  std::memcpy(big_offsets.data(), &eh, sizeof eh);
  EXPECT_FALSE(AnalyzeElf(big_offsets, kBuild).text_relocs);
}

// From a file by pread: the same findings as from the bytes, for every
// crafted variant and every truncation.
TEST(ElfQa, FromAFileMatchesFromBytes) {
  char tmpl[] = "/tmp/nsb-elf-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::unlink(tmpl);
  const std::vector<std::string> kBuildDirs = {"/build"};
  for (const Craft& c : {Craft{.runpath = "/build/x", .symtab = true}, Craft{.exec_stack = true},
                         Craft{.textrel = true, .symtab = true}, Craft{.no_stack_header = true}}) {
    std::string elf = MakeElf(c);
    for (size_t n : {elf.size(), size_t{300}, size_t{64}}) {
      ASSERT_EQ(::ftruncate(fd, 0), 0);
      ASSERT_EQ(::pwrite(fd, elf.data(), n, 0), static_cast<ssize_t>(n));
      ElfFindings a = AnalyzeElf(std::string_view(elf).substr(0, n), kBuildDirs);
      ElfFindings b = AnalyzeElfFd(fd, n, kBuildDirs);
      EXPECT_EQ(a.is_elf, b.is_elf) << n;
      EXPECT_EQ(a.exec_stack, b.exec_stack) << n;
      EXPECT_EQ(a.text_relocs, b.text_relocs) << n;
      EXPECT_EQ(a.pre_stripped, b.pre_stripped) << n;
      EXPECT_EQ(a.bad_rpath, b.bad_rpath) << n;
    }
  }
  ::close(fd);
}

}  // namespace
}  // namespace nsbuild::merge
