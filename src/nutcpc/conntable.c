/* The connection-table reader lives in libnuclient now; this file stays for
 * the libFuzzer harnesses (tests/fuzz/fuzz_proc_tcp.c, fuzz_sock_diag.c),
 * which include it to reach its static parsers.  Not compiled into nutcpc. */
#include "../libnuclient/conntable.c"
