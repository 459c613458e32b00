// base/ is the bottom.
#include "cli/commands.h"
