// Escaping bytes that someone else controls before a terminal or a log file
// sees them. A sandbox names the paths, command lines and log lines nsbuild
// prints; raw, they could move the operator's cursor, rewrite a line, set the
// window title, write the clipboard (OSC 52) or forge a line of nsbuild's own
// output. Escaped, each such byte is shown as text ("\x1b", "\n"), so what is
// printed is what was there and nothing more.
#pragma once

#include <string>
#include <string_view>

namespace nsbuild::base {

// For one field on one line (a path, a command line): every C0 control
// (newline and tab too), DEL, every C1 control (U+0080..U+009F), the Unicode
// line/paragraph separators and bidirectional overrides, and every byte that
// is not part of valid, shortest-form UTF-8 is escaped: "\n", "\t", "\r",
// "\xHH" for other single bytes, "\u{HHHH}" for escaped code points. Valid
// printable UTF-8 (é, 日本) is kept as it is.
std::string EscapeLine(std::string_view bytes);

// For several lines (a log tail, streamed output): like EscapeLine but "\n"
// and "\t" stay what they are, so the text keeps its lines.
std::string EscapeText(std::string_view bytes);

}  // namespace nsbuild::base
