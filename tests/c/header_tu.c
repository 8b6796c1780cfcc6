#include "flb_rs.h"
