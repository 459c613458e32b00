// A small classic-BPF interpreter for seccomp programs: the rule sets are
// checked without loading them into a kernel.
#pragma once

#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace nsbuild::testing {

// Runs a seccomp cBPF program over one seccomp_data; returns the action word.
inline uint32_t Evaluate(const std::vector<sock_filter>& prog, const seccomp_data& data) {
  uint32_t a = 0, x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
  const auto* bytes = reinterpret_cast<const uint8_t*>(&data);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
        if (BPF_MODE(f.code) == BPF_ABS) {
          std::memcpy(&a, bytes + f.k, 4);
        } else if (BPF_MODE(f.code) == BPF_IMM) {
          a = f.k;
        } else if (BPF_MODE(f.code) == BPF_MEM) {
          a = mem[f.k];
        }
        break;
      case BPF_LDX:
        x = BPF_MODE(f.code) == BPF_MEM ? mem[f.k] : f.k;
        break;
      case BPF_ST:
        mem[f.k] = a;
        break;
      case BPF_STX:
        mem[f.k] = x;
        break;
      case BPF_ALU: {
        uint32_t v = BPF_SRC(f.code) == BPF_X ? x : f.k;
        switch (BPF_OP(f.code)) {
          case BPF_AND:
            a &= v;
            break;
          case BPF_OR:
            a |= v;
            break;
          case BPF_ADD:
            a += v;
            break;
          case BPF_SUB:
            a -= v;
            break;
          case BPF_RSH:
            a >>= v;
            break;
          case BPF_LSH:
            a <<= v;
            break;
          default:
            ADD_FAILURE() << "alu op " << BPF_OP(f.code);
        }
        break;
      }
      case BPF_JMP: {
        uint32_t v = BPF_SRC(f.code) == BPF_X ? x : f.k;
        bool t = false;
        switch (BPF_OP(f.code)) {
          case BPF_JA:
            pc += f.k;
            continue;
          case BPF_JEQ:
            t = a == v;
            break;
          case BPF_JGT:
            t = a > v;
            break;
          case BPF_JGE:
            t = a >= v;
            break;
          case BPF_JSET:
            t = (a & v) != 0;
            break;
        }
        pc += t ? f.jt : f.jf;
        break;
      }
      case BPF_RET:
        return f.k;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX)
          x = a;
        else
          a = x;
        break;
    }
  }
  ADD_FAILURE() << "program fell off the end";
  return 0;
}

}  // namespace nsbuild::testing
