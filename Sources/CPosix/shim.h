#ifndef CAIRN_CPOSIX_SHIM_H
#define CAIRN_CPOSIX_SHIM_H
// Linux calls Swift cannot reach directly: prctl (glibc declares it variadic),
// malloc_usable_size and malloc_trim (in <malloc.h>, which the Glibc module does not export).
#include <signal.h>
#include <stddef.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <malloc.h>
#endif

/// Asks the kernel to send `signal` to the calling process when the thread that forked it ends
/// (prctl PR_SET_PDEATHSIG). Returns 0, or -1 where the system has no such call.
static inline int cairn_set_parent_death_signal(int signal) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
#else
    (void)signal;
    return -1;
#endif
}

/// Usable bytes of a block from malloc (at least what was asked for).
static inline size_t cairn_malloc_usable_size(void *block) {
#ifdef __linux__
    return malloc_usable_size(block);
#else
    (void)block;
    return 0;
#endif
}

/// Gives the pages of free memory inside the heap back to the kernel (glibc's malloc_trim(0),
/// which madvises every whole free page, not only the heap's top). Returns 1 if any memory was
/// released.
static inline int cairn_malloc_trim(void) {
#if defined(__linux__) && defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}
#endif
