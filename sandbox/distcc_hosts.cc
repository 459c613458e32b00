#include "sandbox/distcc_hosts.h"

#include <cctype>
#include <sstream>

namespace nsbuild::sandbox {
namespace {

using base::PlainError;
using base::Result;

// A decimal number in [lo, hi]; false on anything else.
bool ParseNumber(const std::string& s, long lo, long hi, long* out) {
  if (s.empty() || s.size() > 6) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  *out = std::stol(s);
  return *out >= lo && *out <= hi;
}

bool ValidHostChars(const std::string& h) {
  for (char c : h) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  }
  return !h.empty();
}

Result<DistccHost> ParseOne(std::string tok, const std::string& where) {
  auto bad = [&](const std::string& why) { return PlainError(where + ": '" + tok + "': " + why); };
  if (tok.starts_with("--")) return bad("distcc options are set by nsbuild, give only daemons");
  if (tok.find('@') != std::string::npos)
    return bad("ssh hosts cannot be forwarded; use a TCP daemon");
  DistccHost h;
  std::string rest = tok;
  if (auto comma = rest.find(','); comma != std::string::npos) {
    h.options = rest.substr(comma);
    rest.resize(comma);
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    long n = 0;
    if (!ParseNumber(rest.substr(slash + 1), 1, 1000, &n)) return bad("job limit must be 1..1000");
    h.slots = static_cast<int>(n);
    rest.resize(slash);
  }
  if (auto colon = rest.find(':'); colon != std::string::npos) {
    long n = 0;
    if (!ParseNumber(rest.substr(colon + 1), 1, 65535, &n)) return bad("port must be 1..65535");
    h.port = static_cast<uint16_t>(n);
    rest.resize(colon);
  }
  if (!ValidHostChars(rest)) return bad("expected ADDR[:PORT][/LIMIT][,OPTIONS]");
  if (rest == "localhost") {
    return bad(
        "localhost means 'compile locally' to distcc; name the daemon's address (127.0.0.1)");
  }
  h.host = rest;
  return h;
}

}  // namespace

Result<std::vector<DistccHost>> ParseDistccHosts(const std::string& text,
                                                 const std::string& where) {
  std::istringstream in(text);
  std::vector<DistccHost> out;
  std::string tok;
  while (in >> tok) {
    NSB_ASSIGN_OR_RETURN(DistccHost h, ParseOne(tok, where));
    out.push_back(std::move(h));
  }
  if (out.empty()) return PlainError(where + ": no distcc host given");
  if (out.size() > kMaxDistccHosts) {
    return PlainError(where + ": at most " + std::to_string(kMaxDistccHosts) + " distcc hosts");
  }
  return out;
}

std::string DistccInsideAddress(size_t index) { return "127.0.0." + std::to_string(index + 2); }

std::string InsideDistccHosts(const std::vector<DistccHost>& hosts) {
  std::string out;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (i) out += ' ';
    out += DistccInsideAddress(i) + ":" + std::to_string(hosts[i].port);
    if (hosts[i].slots) out += "/" + std::to_string(hosts[i].slots);
    out += hosts[i].options;
  }
  return out;
}

int DistccRemoteSlots(const std::vector<DistccHost>& hosts) {
  int n = 0;
  for (const auto& h : hosts) n += h.slots ? h.slots : kDistccDefaultSlots;
  return n;
}

}  // namespace nsbuild::sandbox
