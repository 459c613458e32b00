// merge/ does not run sandboxes.
#include "sandbox/sandbox.h"
