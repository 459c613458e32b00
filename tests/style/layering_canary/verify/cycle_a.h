// One half of a cycle.
#pragma once

#include "verify/cycle_b.h"
