#ifndef CAIRN_CLZF_SHIM_H
#define CAIRN_CLZF_SHIM_H
// liblzf (Debian liblzf-dev 3.6): the LZF code Redis ships, for per-string compression in RDBs.
#include <liblzf/lzf.h>
#endif
