#include "base/result.h"

#include <cstring>

namespace nsbuild::base {

std::string Error::Message() const {
  if (errnum == 0) return context;
  return context + ": " + std::strerror(errnum);
}

}  // namespace nsbuild::base
