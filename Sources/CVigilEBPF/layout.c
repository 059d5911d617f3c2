// Compile-time checks of the record layout the BPF programs and the Swift decoder share: the Swift side
// reads these structs through this module, and the BPF side is compiled from the same header.
#include "vigil_bpf_events.h"

_Static_assert(sizeof(struct vigil_bpf_header) == 80, "header layout changed");
_Static_assert(sizeof(struct vigil_bpf_syscall) == 80, "syscall layout changed");
_Static_assert(sizeof(struct vigil_bpf_socket) == 48, "socket layout changed");
_Static_assert(VIGIL_RECORD_STRINGS_OFFSET % 8 == 0, "strings must start 8-byte aligned");
_Static_assert(VIGIL_STRING_MAX == 1024, "the BPF programs mask string lengths with VIGIL_STRING_MAX - 1");
_Static_assert(VIGIL_RECORD_STRINGS_OFFSET == __builtin_offsetof(struct vigil_bpf_record, strings),
               "the strings are the record's last member");
