#ifndef CAIRN_CLIBFUZZER_SHIM_H
#define CAIRN_CLIBFUZZER_SHIM_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry points (compiler-rt/lib/fuzzer/FuzzerInterface.h). The library itself is
// linked by tools/fuzz (libclang_rt.fuzzer_no_main), not named here.

// Runs libFuzzer's command-line driver with `callback` as the target: what libFuzzer's own main
// does, for programs that define main themselves.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

// libFuzzer's own mutation of data[0..<size] in place, at most max_size bytes; returns the new
// size. Only valid inside a custom mutator.
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
#endif
