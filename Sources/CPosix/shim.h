#ifndef CAIRN_CPOSIX_SHIM_H
#define CAIRN_CPOSIX_SHIM_H
// Linux system calls Swift cannot call directly because glibc declares them variadic.
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
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
#endif
