// The other half.
#include "verify/cycle_a.h"
