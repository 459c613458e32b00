// Back-edge: builder/ may not depend on verify/.
#include "verify/verify.h"
