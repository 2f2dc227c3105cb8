#!/bin/sh
# run.sh BUILD_DIR SECONDS: for CI, from a fresh clone.  Configures BUILD_DIR
# with CC=clang --enable-fuzz, builds the harnesses and runs each for SECONDS
# (make fuzz).  The last line is "N passed, N failed".
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$1 seconds=$2

fail() {
	echo "fuzz: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

command -v clang > /dev/null 2>&1 || fail "clang not found (apt-get install clang)"
if [ ! -x "$top/configure" ]; then
	(cd "$top" && ./autogen.sh) > /dev/null 2>&1 || fail "autogen.sh failed"
fi
mkdir -p "$build" || fail "cannot make $build"
build=$(cd "$build" && pwd)
jobs=$(nproc 2> /dev/null || echo 2)
(cd "$build" && CC=clang "$top/configure" -q --enable-fuzz) > "$build/fuzz-configure.log" 2>&1 ||
	fail "configure failed (see $build/fuzz-configure.log)"
(cd "$build/tests/fuzz" && make -s -j"$jobs") > "$build/fuzz-build.log" 2>&1 ||
	fail "build failed (see $build/fuzz-build.log)"
cd "$build" && make -s fuzz FUZZ_SECONDS="$seconds"
