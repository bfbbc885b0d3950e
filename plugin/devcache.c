/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "devcache.h"

/* One per vCPU, touched only by that vCPU's thread (untouched pages cost
 * no memory). */
ElDevCache el_dev_caches[EL_DEV_VCPUS];
