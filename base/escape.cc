#include "base/escape.h"

#include <cstdint>
#include <cstdio>

namespace nsbuild::base {
namespace {

void AppendHexByte(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

void AppendCodePoint(std::string& out, uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\u{%04x}", cp);
  out += buf;
}

// The length of the valid UTF-8 sequence at s[i] and its code point, or 0
// when the bytes there are not one (a stray continuation byte, a truncated
// sequence, an overlong form, a surrogate, a value above U+10FFFF).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  size_t len;
  uint32_t min;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2, min = 0x80, *cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3, min = 0x800, *cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4, min = 0x10000, *cp = c & 0x07;
  } else {
    return 0;  // ASCII is handled by the caller; 0x80..0xc1 and 0xf5.. never start one
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    *cp = (*cp << 6) | (b(k) & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) return 0;
  return len;
}

// Code points that are valid but change how a terminal shows what follows.
bool IsInvisibleControl(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) ||                  // C1: CSI, OSC, ST... as single code points
         cp == 0x2028 || cp == 0x2029 ||                // line and paragraph separators
         (cp >= 0x202a && cp <= 0x202e) ||              // bidi embeddings and overrides
         (cp >= 0x2066 && cp <= 0x2069) ||              // bidi isolates
         cp == 0x200e || cp == 0x200f || cp == 0x061c;  // direction marks
}

std::string Escape(std::string_view s, bool keep_lines) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != 0x7f) {
        out += static_cast<char>(c);
      } else if (keep_lines && (c == '\n' || c == '\t')) {
        out += static_cast<char>(c);
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\r') {
        out += "\\r";
      } else {
        AppendHexByte(out, c);
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {
      AppendHexByte(out, c);
      ++i;
    } else if (IsInvisibleControl(cp)) {
      AppendCodePoint(out, cp);
      i += len;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace

std::string EscapeLine(std::string_view bytes) { return Escape(bytes, false); }
std::string EscapeText(std::string_view bytes) { return Escape(bytes, true); }

}  // namespace nsbuild::base
