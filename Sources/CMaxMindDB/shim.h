#ifndef PORTCULLIS_CMAXMINDDB_SHIM_H
#define PORTCULLIS_CMAXMINDDB_SHIM_H
#include <maxminddb.h>
#endif
